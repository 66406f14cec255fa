//! The epoch's input and output as octets, so that the same epoch can be handed to a PVM service and its
//! result read back (the `yuma-epoch` probe service, the `subnet` service's stored parameters).
//!
//! The encodings are GP 0.7.2 Appendix C's, through `orrery-service-codec`: fixed-width little-endian
//! `E_n` (eq. C.12) for every number, the compact natural `E` (eq. C.1) for every length, one octet 0/1
//! for a boolean and `0` or `1 ‖ value` for an option. Fixed-point values travel as their raw bits
//! (I32F32 as the `E_8` of its two's-complement `i64`), so nothing is rounded on the way.
//!
//! - [`EpochParams`]: `E2(kappa) ‖ E2(bonds_penalty) ‖ E8(bonds_moving_average) ‖ E8(activity_cutoff) ‖
//!   E2(max_allowed_validators) ‖ E8(stake_threshold) ‖ E1(yuma3) ‖ E1(liquid_alpha) ‖ E2(alpha_low) ‖
//!   E2(alpha_high) ‖ E2(alpha_sigmoid_steepness)`, 38 octets;
//! - a row of `(uid, value)` pairs: `E(k) ‖ k × (E2(uid) ‖ E2(value))`;
//! - [`Neuron`]: `E8(stake) ‖ E8(last_update) ‖ E8(block_at_registration) ‖ E1(validator_permit) ‖
//!   row(weights) ‖ row(bonds) ‖ option(E8(earliest_commit_block))`;
//! - [`EpochInput`]: `params ‖ E8(current_block) ‖ E8(tempo) ‖ E8(last_epoch_block) ‖
//!   option(E2(owner_uid)) ‖ E(n) ‖ n × neuron ‖ E8(emission)`;
//! - [`NeuronOutput`]: `E1(active) ‖ E2(stake_weight) ‖ E2(consensus) ‖ E2(incentive) ‖ E2(dividend) ‖
//!   E2(validator_trust) ‖ E1(validator_permit) ‖ E8(server_emission) ‖ E8(validator_emission) ‖
//!   E8(emission) ‖ row(bonds)`;
//! - [`EpochOutput`]: `E(n) ‖ n × neuron output ‖ vector(consensus) ‖ vector(incentive) ‖
//!   vector(dividends) ‖ vector(validator_trust) ‖ E(r) ‖ r × (E(k) ‖ k × (E2(uid) ‖ E8(bits)))`, a vector
//!   being `E(k) ‖ k × E8(bits)`;
//! - an epoch's result ([`encode_result`]): `E1(0) ‖ output`, or `E1(1) ‖ E1(code)` for an
//!   [`EpochError`] ([`error_code`]).
//!
//! Every decoder refuses (`None`) a short, malformed or over-long input, and reads a count only up to its
//! cap and only if the octets left could hold that many items, so a forged length allocates nothing.

use alloc::vec::Vec;

use orrery_service_codec::{put_natural, Reader};

use crate::epoch::{EpochError, EpochInput, EpochOutput, EpochParams, Neuron, NeuronOutput};
use crate::math::SparseMatrix;
use crate::I32F32;

/// The most neurons a decoded input or output may have: one more than the epoch accepts, so that the
/// epoch itself refuses 65,536 neurons with its reason ([`EpochError::TooManyNeurons`]).
pub const MAX_NEURONS: usize = 1 << 16;
/// The most entries a decoded row (weights, bonds, a vector) may have.
pub const MAX_ROW: usize = 1 << 16;

/// The octets of the smallest encoded [`Neuron`]: three `E_8`, a flag, two empty rows, no commit.
const MIN_NEURON: usize = 8 * 3 + 1 + 1 + 1 + 1;
/// The octets of the smallest encoded [`NeuronOutput`].
const MIN_NEURON_OUTPUT: usize = 1 + 2 * 5 + 1 + 8 * 3 + 1;

/// Appends the parameters (38 octets), the layout the `subnet` service's `CreateSubnet` command and
/// subnet record carry.
pub fn put_params(out: &mut Vec<u8>, p: &EpochParams) {
    out.extend_from_slice(&p.kappa.to_le_bytes());
    out.extend_from_slice(&p.bonds_penalty.to_le_bytes());
    out.extend_from_slice(&p.bonds_moving_average.to_le_bytes());
    out.extend_from_slice(&p.activity_cutoff.to_le_bytes());
    out.extend_from_slice(&p.max_allowed_validators.to_le_bytes());
    out.extend_from_slice(&p.stake_threshold.to_le_bytes());
    out.push(p.yuma3.into());
    out.push(p.liquid_alpha.into());
    out.extend_from_slice(&p.alpha_low.to_le_bytes());
    out.extend_from_slice(&p.alpha_high.to_le_bytes());
    out.extend_from_slice(&p.alpha_sigmoid_steepness.to_le_bytes());
}

/// Reads what [`put_params`] wrote.
pub fn read_params(r: &mut Reader<'_>) -> Option<EpochParams> {
    Some(EpochParams {
        kappa: r.u16()?,
        bonds_penalty: r.u16()?,
        bonds_moving_average: r.u64()?,
        activity_cutoff: r.u64()?,
        max_allowed_validators: r.u16()?,
        stake_threshold: r.u64()?,
        yuma3: r.bool()?,
        liquid_alpha: r.bool()?,
        alpha_low: r.u16()?,
        alpha_high: r.u16()?,
        alpha_sigmoid_steepness: i16::from_le_bytes(r.array()?),
    })
}

fn put_pairs(out: &mut Vec<u8>, pairs: &[(u16, u16)]) {
    put_natural(out, pairs.len() as u64);
    for &(j, v) in pairs {
        out.extend_from_slice(&j.to_le_bytes());
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn read_pairs(r: &mut Reader<'_>) -> Option<Vec<(u16, u16)>> {
    let k = r.count(MAX_ROW, 4)?;
    (0..k).map(|_| Some((r.u16()?, r.u16()?))).collect()
}

fn put_fixed(out: &mut Vec<u8>, x: I32F32) {
    out.extend_from_slice(&x.to_bits().to_le_bytes());
}

fn read_fixed(r: &mut Reader<'_>) -> Option<I32F32> {
    Some(I32F32::from_bits(i64::from_le_bytes(r.array()?)))
}

fn put_vector(out: &mut Vec<u8>, v: &[I32F32]) {
    put_natural(out, v.len() as u64);
    v.iter().for_each(|&x| put_fixed(out, x));
}

fn read_vector(r: &mut Reader<'_>) -> Option<Vec<I32F32>> {
    let k = r.count(MAX_ROW, 8)?;
    (0..k).map(|_| read_fixed(r)).collect()
}

fn put_option_u64(out: &mut Vec<u8>, x: Option<u64>) {
    match x {
        None => out.push(0),
        Some(x) => {
            out.push(1);
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
}

fn read_option_u64(r: &mut Reader<'_>) -> Option<Option<u64>> {
    match r.u8()? {
        0 => Some(None),
        1 => Some(Some(r.u64()?)),
        _ => None,
    }
}

fn put_neuron(out: &mut Vec<u8>, x: &Neuron) {
    out.extend_from_slice(&x.stake.to_le_bytes());
    out.extend_from_slice(&x.last_update.to_le_bytes());
    out.extend_from_slice(&x.block_at_registration.to_le_bytes());
    out.push(x.validator_permit.into());
    put_pairs(out, &x.weights);
    put_pairs(out, &x.bonds);
    put_option_u64(out, x.earliest_commit_block);
}

fn read_neuron(r: &mut Reader<'_>) -> Option<Neuron> {
    Some(Neuron {
        stake: r.u64()?,
        last_update: r.u64()?,
        block_at_registration: r.u64()?,
        validator_permit: r.bool()?,
        weights: read_pairs(r)?,
        bonds: read_pairs(r)?,
        earliest_commit_block: read_option_u64(r)?,
    })
}

/// Appends the encoding of an epoch's input.
pub fn put_input(out: &mut Vec<u8>, input: &EpochInput) {
    put_params(out, &input.params);
    out.extend_from_slice(&input.current_block.to_le_bytes());
    out.extend_from_slice(&input.tempo.to_le_bytes());
    out.extend_from_slice(&input.last_epoch_block.to_le_bytes());
    match input.owner_uid {
        None => out.push(0),
        Some(uid) => {
            out.push(1);
            out.extend_from_slice(&uid.to_le_bytes());
        }
    }
    put_natural(out, input.neurons.len() as u64);
    input.neurons.iter().for_each(|x| put_neuron(out, x));
    out.extend_from_slice(&input.emission.to_le_bytes());
}

/// The encoding of an epoch's input.
pub fn encode_input(input: &EpochInput) -> Vec<u8> {
    let mut out = Vec::new();
    put_input(&mut out, input);
    out
}

/// Reads an epoch's input; `None` unless `data` is exactly one well-formed encoding.
pub fn decode_input(data: &[u8]) -> Option<EpochInput> {
    let mut r = Reader::new(data);
    let params = read_params(&mut r)?;
    let current_block = r.u64()?;
    let tempo = r.u64()?;
    let last_epoch_block = r.u64()?;
    let owner_uid = match r.u8()? {
        0 => None,
        1 => Some(r.u16()?),
        _ => return None,
    };
    let n = r.count(MAX_NEURONS, MIN_NEURON)?;
    let neurons = (0..n).map(|_| read_neuron(&mut r)).collect::<Option<Vec<_>>>()?;
    let emission = r.u64()?;
    r.is_empty().then_some(EpochInput {
        params,
        current_block,
        tempo,
        last_epoch_block,
        owner_uid,
        neurons,
        emission,
    })
}

fn put_neuron_output(out: &mut Vec<u8>, x: &NeuronOutput) {
    out.push(x.active.into());
    for v in [x.stake_weight, x.consensus, x.incentive, x.dividend, x.validator_trust] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(x.validator_permit.into());
    for v in [x.server_emission, x.validator_emission, x.emission] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    put_pairs(out, &x.bonds);
}

fn read_neuron_output(r: &mut Reader<'_>) -> Option<NeuronOutput> {
    Some(NeuronOutput {
        active: r.bool()?,
        stake_weight: r.u16()?,
        consensus: r.u16()?,
        incentive: r.u16()?,
        dividend: r.u16()?,
        validator_trust: r.u16()?,
        validator_permit: r.bool()?,
        server_emission: r.u64()?,
        validator_emission: r.u64()?,
        emission: r.u64()?,
        bonds: read_pairs(r)?,
    })
}

/// Appends the encoding of an epoch's output.
pub fn put_output(out: &mut Vec<u8>, output: &EpochOutput) {
    put_natural(out, output.neurons.len() as u64);
    output.neurons.iter().for_each(|x| put_neuron_output(out, x));
    for v in [&output.consensus, &output.incentive, &output.dividends, &output.validator_trust] {
        put_vector(out, v);
    }
    put_natural(out, output.ema_bonds.len() as u64);
    for row in &output.ema_bonds {
        put_natural(out, row.len() as u64);
        for &(j, x) in row {
            out.extend_from_slice(&j.to_le_bytes());
            put_fixed(out, x);
        }
    }
}

/// The encoding of an epoch's output.
pub fn encode_output(output: &EpochOutput) -> Vec<u8> {
    let mut out = Vec::new();
    put_output(&mut out, output);
    out
}

fn read_output(r: &mut Reader<'_>) -> Option<EpochOutput> {
    let n = r.count(MAX_NEURONS, MIN_NEURON_OUTPUT)?;
    let neurons = (0..n).map(|_| read_neuron_output(r)).collect::<Option<Vec<_>>>()?;
    let consensus = read_vector(r)?;
    let incentive = read_vector(r)?;
    let dividends = read_vector(r)?;
    let validator_trust = read_vector(r)?;
    let rows = r.count(MAX_NEURONS, 1)?;
    let ema_bonds = (0..rows)
        .map(|_| {
            let k = r.count(MAX_ROW, 10)?;
            (0..k).map(|_| Some((r.u16()?, read_fixed(r)?))).collect()
        })
        .collect::<Option<SparseMatrix>>()?;
    Some(EpochOutput { neurons, consensus, incentive, dividends, validator_trust, ema_bonds })
}

/// Reads an epoch's output; `None` unless `data` is exactly one well-formed encoding.
pub fn decode_output(data: &[u8]) -> Option<EpochOutput> {
    let mut r = Reader::new(data);
    let output = read_output(&mut r)?;
    r.is_empty().then_some(output)
}

/// The octet that names an [`EpochError`] in an encoded result (its fields are not carried).
pub fn error_code(e: &EpochError) -> u8 {
    match e {
        EpochError::TooManyNeurons(_) => 1,
        EpochError::UnknownUid { .. } => 2,
        EpochError::DuplicateUid { .. } => 3,
        EpochError::UnknownOwner(_) => 4,
        EpochError::StakeOverflow => 5,
        EpochError::WeightSumOverflow(_) => 6,
    }
}

/// The encoding of an epoch's result: `E1(0) ‖ output` or `E1(1) ‖ E1(error code)`.
pub fn encode_result(result: &Result<EpochOutput, EpochError>) -> Vec<u8> {
    match result {
        Ok(output) => {
            let mut out = alloc::vec![0];
            put_output(&mut out, output);
            out
        }
        Err(e) => alloc::vec![1, error_code(e)],
    }
}

/// Reads what [`encode_result`] wrote, an error as its code (1 to 6); `None` unless `data` is exactly one
/// well-formed encoding.
pub fn decode_result(data: &[u8]) -> Option<Result<EpochOutput, u8>> {
    let mut r = Reader::new(data);
    let result = match r.u8()? {
        0 => Ok(read_output(&mut r)?),
        1 => Err(r.u8().filter(|code| (1..=6).contains(code))?),
        _ => return None,
    };
    r.is_empty().then_some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample_input() -> EpochInput {
        EpochInput {
            params: EpochParams {
                yuma3: true,
                liquid_alpha: true,
                alpha_sigmoid_steepness: -7,
                ..EpochParams::default()
            },
            current_block: 1 << 40,
            tempo: 360,
            last_epoch_block: 7,
            owner_uid: Some(2),
            neurons: vec![
                Neuron {
                    stake: u64::MAX,
                    last_update: 3,
                    block_at_registration: 1,
                    validator_permit: true,
                    weights: vec![(1, 65535), (2, 1)],
                    bonds: vec![(2, 300)],
                    earliest_commit_block: Some(0),
                },
                Neuron::default(),
                Neuron { weights: (0..200).map(|j| (j, j)).collect(), ..Neuron::default() },
            ],
            emission: 1_000_000_000,
        }
    }

    fn sample_output() -> EpochOutput {
        EpochOutput {
            neurons: vec![
                NeuronOutput {
                    active: true,
                    stake_weight: 1,
                    consensus: 2,
                    incentive: 3,
                    dividend: 4,
                    validator_trust: 5,
                    validator_permit: true,
                    server_emission: 6,
                    validator_emission: u64::MAX,
                    emission: 8,
                    bonds: vec![(0, 9), (1, 10)],
                },
                NeuronOutput::default(),
            ],
            consensus: vec![I32F32::from_bits(-1), I32F32::from_num(0.5)],
            incentive: vec![I32F32::from_bits(i64::MAX), I32F32::from_bits(i64::MIN)],
            dividends: vec![],
            validator_trust: vec![I32F32::from_num(1)],
            ema_bonds: vec![vec![(1, I32F32::from_bits(12345)), (0, I32F32::from_num(-3))], vec![]],
        }
    }

    #[test]
    fn inputs_and_outputs_round_trip() {
        let input = sample_input();
        let bytes = encode_input(&input);
        assert_eq!(decode_input(&bytes), Some(input));
        assert_eq!(decode_input(&encode_input(&EpochInput::default())), Some(EpochInput::default()));

        let output = sample_output();
        assert_eq!(decode_output(&encode_output(&output)), Some(output.clone()));
        assert_eq!(decode_output(&encode_output(&EpochOutput::default())), Some(EpochOutput::default()));
        assert_eq!(decode_result(&encode_result(&Ok(output.clone()))), Some(Ok(output)));
        for (e, code) in [
            (EpochError::TooManyNeurons(70_000), 1),
            (EpochError::UnknownUid { row: 1, column: 2 }, 2),
            (EpochError::DuplicateUid { row: 1, column: 2 }, 3),
            (EpochError::UnknownOwner(4), 4),
            (EpochError::StakeOverflow, 5),
            (EpochError::WeightSumOverflow(9), 6),
        ] {
            assert_eq!(encode_result(&Err(e.clone())), [1, code]);
            assert_eq!(decode_result(&[1, code]), Some(Err(code)));
        }
    }

    /// One neuron, laid out by hand from the module's table.
    #[test]
    fn a_small_input_is_laid_out_field_by_field() {
        let input = EpochInput {
            params: EpochParams::default(),
            current_block: 0x0102,
            tempo: 3,
            last_epoch_block: 0,
            owner_uid: None,
            neurons: vec![Neuron {
                stake: 5,
                last_update: 1,
                block_at_registration: 0,
                validator_permit: true,
                weights: vec![(0, 0xabcd)],
                bonds: vec![],
                earliest_commit_block: Some(9),
            }],
            emission: 1000,
        };
        let mut want: Vec<u8> = vec![
            0xff, 0x7f, // kappa 32767
            0xff, 0xff, // bonds penalty 65535
            0xa0, 0xbb, 0x0d, 0, 0, 0, 0, 0, // bonds moving average 900000 = 0x0dbba0
            0x88, 0x13, 0, 0, 0, 0, 0, 0, // activity cutoff 5000 = 0x1388
            0x80, 0, // max allowed validators 128
            0, 0, 0, 0, 0, 0, 0, 0, // stake threshold 0
            0, 0, // yuma3, liquid alpha
            0x33, 0xb3, // alpha low 45875 = 0xb333
            0x66, 0xe6, // alpha high 58982 = 0xe666
            0xe8, 0x03, // steepness 1000
        ];
        want.extend_from_slice(&[0x02, 0x01, 0, 0, 0, 0, 0, 0]); // current block
        want.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]); // tempo
        want.extend_from_slice(&[0; 8]); // last epoch block
        want.push(0); // no owner
        want.push(1); // one neuron
        want.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]); // stake, last update
        want.extend_from_slice(&[0; 8]); // registered at 0
        want.push(1); // permit
        want.extend_from_slice(&[1, 0, 0, 0xcd, 0xab]); // weights: one pair (0, 0xabcd)
        want.push(0); // no bonds
        want.extend_from_slice(&[1, 9, 0, 0, 0, 0, 0, 0, 0]); // earliest commit 9
        want.extend_from_slice(&[0xe8, 0x03, 0, 0, 0, 0, 0, 0]); // emission 1000
        assert_eq!(encode_input(&input), want);
        assert_eq!(decode_input(&want), Some(input));

        // An output of one neuron whose consensus is 1/2 (bits 2^31) and one bond of value 1 (bits 2^32).
        let output = EpochOutput {
            neurons: vec![NeuronOutput { active: true, emission: 2, ..NeuronOutput::default() }],
            consensus: vec![I32F32::from_num(0.5)],
            ema_bonds: vec![vec![(0, I32F32::from_num(1))]],
            ..EpochOutput::default()
        };
        let mut want: Vec<u8> = vec![1, 1];
        want.extend_from_slice(&[0; 11]); // five u16 proportions, no permit
        want.extend_from_slice(&[0; 16]); // server and validator emission
        want.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 0]); // emission 2, no bonds
        want.extend_from_slice(&[1, 0, 0, 0, 0x80, 0, 0, 0, 0]); // consensus [0.5]
        want.extend_from_slice(&[0, 0, 0]); // no incentive, dividends, trust
        want.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]); // ema bonds [[(0, 1.0)]]
        assert_eq!(encode_output(&output), want);
        assert_eq!(decode_output(&want), Some(output.clone()));
        want.insert(0, 0);
        assert_eq!(decode_result(&want), Some(Ok(output)));
    }

    #[test]
    fn truncated_extended_or_garbled_encodings_are_refused() {
        let input = encode_input(&sample_input());
        for len in 0..input.len() {
            assert_eq!(decode_input(&input[..len]), None, "{len}");
        }
        let mut longer = input.clone();
        longer.push(0);
        assert_eq!(decode_input(&longer), None);
        let output = encode_result(&Ok(sample_output()));
        for len in 0..output.len() {
            assert_eq!(decode_result(&output[..len]), None, "{len}");
        }
        let mut longer = output.clone();
        longer.push(0);
        assert_eq!(decode_result(&longer), None);

        // A flag of 2 (yuma3, at octet 30), an owner tag of 2, a result tag of 2, an unknown error code.
        let mut bad = input.clone();
        bad[30] = 2;
        assert_eq!(decode_input(&bad), None);
        let mut bad = input;
        bad[38 + 24] = 2;
        assert_eq!(decode_input(&bad), None);
        assert_eq!(decode_result(&[2]), None);
        assert_eq!(decode_result(&[1, 0]), None);
        assert_eq!(decode_result(&[1, 7]), None);
        assert_eq!(decode_result(&[1, 1, 0]), None);
    }

    /// Counts far beyond the octets that follow are refused before anything is allocated for them.
    #[test]
    fn forged_counts_are_refused() {
        let mut input = encode_input(&EpochInput::default());
        // The neuron count sits after the 38 octets of parameters, three E8 and the owner's tag.
        let at = 38 + 24 + 1;
        assert_eq!(input[at], 0);
        input.splice(at..at + 1, [0xc1, 0x00, 0x00]); // E(65536): allowed by the cap, not by the data
        assert_eq!(decode_input(&input), None);
        input.splice(at..at + 3, [0xc1, 0x01, 0x00]); // E(65537): over the cap
        assert_eq!(decode_input(&input), None);
        let mut output = vec![0, 0xff];
        output.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(decode_result(&output), None);
        // A row of weights claiming 60,000 pairs with none following.
        let mut one = encode_input(&EpochInput { neurons: vec![Neuron::default()], ..EpochInput::default() });
        let weights_at = at + 1 + 25;
        assert_eq!(one[weights_at], 0);
        one.splice(weights_at..weights_at + 1, [0xc0, 0x60, 0xea]);
        assert_eq!(decode_input(&one), None);
    }
}
