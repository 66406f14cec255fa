//! State components encode as the paper lays them out: checked against bytes worked by hand from
//! GP 0.7.2 Appendix C and row-by-row `T(σ)` (§D.1), and against bytes taken from the vectors.

use orrery_codec::{decode_exact, Decode, Encode, Error};
use orrery_state::{
    CoreActivityRecord, DisputesRecords, ServiceActivityRecord, ServiceInfo, TicketsOrKeys,
    ValidatorActivityRecord,
};
use orrery_types::{ChainSpec, TicketBody};

#[test]
fn core_record_is_compact_as_in_the_reports_vectors() {
    // stf/reports/tiny/multiple_reports-1, post_state.cores_statistics[0].
    let record = CoreActivityRecord {
        da_load: 0,
        popularity: 0,
        imports: 8,
        extrinsic_count: 8,
        extrinsic_size: 1526,
        exports: 17,
        bundle_size: 17180,
        gas_used: 821,
    };
    let bytes = [0x00, 0x00, 0x08, 0x08, 0x85, 0xf6, 0x11, 0xc0, 0x1c, 0x43, 0x83, 0x35];
    assert_eq!(record.encode(), bytes);
    assert_eq!(CoreActivityRecord::decode_all(&bytes), Ok(record));
}

#[test]
fn service_record_is_compact_and_validator_record_fixed_width() {
    let service =
        ServiceActivityRecord { refinement_count: 2, refinement_gas_used: 1518, ..Default::default() };
    // Ten naturals: 0, 0, 2, 1518 = 0x5ee as 0x85 0xee, then six zeros.
    assert_eq!(service.encode(), [0, 0, 2, 0x85, 0xee, 0, 0, 0, 0, 0, 0]);
    let validator = ValidatorActivityRecord { blocks: 1, ..Default::default() };
    assert_eq!(validator.encode().len(), 6 * 4);
    assert_eq!(&validator.encode()[..4], &[1, 0, 0, 0]);
}

#[test]
fn service_info_is_the_account_row_of_t_sigma() {
    // C(255, s): 0, c, E_8(b, g, m, o, f), E_4(i, r, a, p) = 1 + 32 + 40 + 16 octets.
    let info =
        ServiceInfo { code_hash: [7; 32], balance: 1, items: 2, parent_service: 3, ..Default::default() };
    let bytes = info.encode();
    assert_eq!(bytes.len(), 89);
    assert_eq!(bytes[0], 0);
    assert_eq!(&bytes[1..33], &[7; 32]);
    assert_eq!(&bytes[33..41], &1u64.to_le_bytes());
    assert_eq!(&bytes[73..77], &2u32.to_le_bytes());
    assert_eq!(&bytes[85..89], &3u32.to_le_bytes());
}

#[test]
fn sealing_keys_carry_a_discriminator_and_exactly_e_entries() {
    let tiny = ChainSpec::tiny();
    let keys = TicketsOrKeys::Keys(vec![[1; 32]; 12]);
    let bytes = keys.encode();
    assert_eq!(bytes.len(), 1 + 12 * 32);
    assert_eq!(bytes[0], 1);
    assert_eq!(decode_exact::<TicketsOrKeys>(&bytes, tiny.lengths()), Ok(keys));
    let tickets = TicketsOrKeys::Tickets(vec![TicketBody { id: [2; 32], attempt: 1 }; 12]);
    assert_eq!(tickets.encode()[0], 0);
    // Eleven entries are not an epoch's worth.
    assert!(decode_exact::<TicketsOrKeys>(&bytes[..bytes.len() - 32], tiny.lengths()).is_err());
}

#[test]
fn judgment_sets_must_be_sorted_and_unique() {
    let mut records = DisputesRecords::default();
    records.good.extend([[1; 32], [2; 32]]);
    let mut bytes = records.encode();
    assert_eq!(DisputesRecords::decode_all(&bytes), Ok(records));
    // Swap the two hashes: the set's encoding is no longer in order.
    bytes[1..33].copy_from_slice(&[2; 32]);
    bytes[33..65].copy_from_slice(&[1; 32]);
    assert_eq!(DisputesRecords::decode_all(&bytes), Err(Error::UnsortedKeys));
}
