//! `stf/<name>/{tiny,full}`: each case applies one sub-transition to its pre-state and must give
//! the expected output and post-state.
//!
//! A case's `.bin` is `E(input, pre_state, output, post_state)` in the family's own shapes (its
//! `<name>.asn`), which are projections of the real state and extrinsics. Each family module
//! declares those shapes, converts them to the `orrery-state`/`orrery-types` values the
//! sub-transition in `orrery-stf` takes, and converts the result back. The comparison is binary:
//! the computed output and post-state, encoded, must be the vector's bytes. On a mismatch the
//! failure shows a field-level diff of the two values.

pub(crate) mod accumulate;
mod assurances;
mod authorizations;
mod disputes;
mod history;
mod preimages;
mod reports;
pub(crate) mod safrole;
mod statistics;

use std::marker::PhantomData;

use orrery_codec::{Decode, Decoder, Describe, Encode, Value};
use orrery_state::ServiceActivityRecord;
use orrery_types::{ChainSpec, ServiceId};

use super::{case_names, not_implemented};
use crate::json::{diff, short, to_json};
use crate::{files_with_extension, read, stem, CaseOutcome, Family};

pub(crate) fn run(family: &Family) -> Result<Vec<CaseOutcome>, String> {
    let name = family.name.split('/').nth(1).unwrap_or_default();
    if let Some(check) = checker(name) {
        let files = files_with_extension(&family.dir, "bin").map_err(|e| e.to_string())?;
        return Ok(files
            .iter()
            .map(|bin| {
                CaseOutcome::from_result(stem(bin), read(bin).and_then(|bytes| check(&family.spec, &bytes)))
            })
            .collect());
    }
    match name {
        "safrole" => safrole::run(family),
        _ => not_implemented(case_names(&family.dir, "bin")?, "the state transition (issue 4)"),
    }
}

/// Checks one case's bytes: decodes them, runs the sub-transition, compares.
pub type CaseChecker = fn(&ChainSpec, &[u8]) -> Result<(), String>;

/// The checker for an STF family (`disputes`, `reports`, …), if Orrery runs it.
pub fn checker(name: &str) -> Option<CaseChecker> {
    Some(match name {
        "authorizations" => check_case::<authorizations::Authorizations>,
        "statistics" => check_case::<statistics::Statistics>,
        "preimages" => check_case::<preimages::Preimages>,
        "disputes" => check_case::<disputes::Disputes>,
        "assurances" => check_case::<assurances::Assurances>,
        "history" => check_case::<history::History>,
        "reports" => check_case::<reports::Reports>,
        "accumulate" => accumulate::check,
        _ => return None,
    })
}

/// One family of STF vectors: its shapes and how to run its sub-transition on them.
pub(crate) trait StfVector {
    type Input: Decode + Describe;
    type State: Decode + Encode + Describe;
    type Output: Decode + Encode + Describe;

    /// Runs the sub-transition: the posterior state and the output. On an error the posterior is
    /// the prior, untouched, which is what every vector expects.
    fn apply(
        spec: &ChainSpec,
        input: &Self::Input,
        pre: &Self::State,
    ) -> Result<(Self::State, Self::Output), String>;
}

/// Decodes one case, runs it and compares.
fn check_case<V: StfVector>(spec: &ChainSpec, bytes: &[u8]) -> Result<(), String> {
    check_case_with::<V::Input, V::State, V::Output>(spec, bytes, |input, pre| V::apply(spec, input, pre))
}

/// As [`check_case`], with the sub-transition given as a closure (for families that need more than
/// the spec, such as safrole's ring context).
pub(crate) fn check_case_with<I, S, O>(
    spec: &ChainSpec,
    bytes: &[u8],
    apply: impl FnOnce(&I, &S) -> Result<(S, O), String>,
) -> Result<(), String>
where
    I: Decode,
    S: Decode + Encode + Describe,
    O: Decode + Encode + Describe,
{
    let mut d = Decoder::new(bytes, spec.lengths());
    let input = I::decode(&mut d).map_err(|e| format!("decoding input: {e}"))?;
    let pre = S::decode(&mut d).map_err(|e| format!("decoding pre_state: {e}"))?;
    let output_start = bytes.len() - d.remaining();
    let expected_output = O::decode(&mut d).map_err(|e| format!("decoding output: {e}"))?;
    let post_start = bytes.len() - d.remaining();
    let expected_post = S::decode(&mut d).map_err(|e| format!("decoding post_state: {e}"))?;
    d.finish().map_err(|e| format!("after post_state: {e}"))?;
    let output_bytes = &bytes[output_start..post_start];
    let post_bytes = &bytes[post_start..];

    let (post, output) = apply(&input, &pre)?;
    let mut problems = Vec::new();
    if output.encode() != output_bytes {
        problems.push(mismatch("output", &expected_output.describe(), &output.describe()));
    }
    if post.encode() != post_bytes {
        problems.push(mismatch("post_state", &expected_post.describe(), &post.describe()));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

pub(crate) fn mismatch(what: &str, expected: &Value, actual: &Value) -> String {
    let (expected, actual) = (to_json(expected), to_json(actual));
    let differences = diff(&expected, &actual, 8);
    if differences.is_empty() {
        // Same value, different bytes: a codec disagreement rather than an STF one.
        format!("{what}: encodings differ though the values agree ({})", short(&actual))
    } else {
        format!(
            "{what} differs:\n{}",
            differences.iter().map(|d| format!("  {what}{d}")).collect::<Vec<_>>().join("\n")
        )
    }
}

/// The vectors' error-code names of one family, in their ASN.1 `ENUMERATED` order.
pub(crate) trait ErrorCodes {
    const NAMES: &'static [&'static str];
}

/// A family's `Output ::= CHOICE { ok T, err ErrorCode }`: discriminator 0 or 1, then the data or
/// the error's one-octet index.
pub(crate) enum StfResult<T, E: ErrorCodes> {
    Ok(T),
    Err(&'static str, PhantomData<E>),
}

impl<T, E: ErrorCodes> StfResult<T, E> {
    /// The vector form of a sub-transition's result, the error given by its code name.
    pub(crate) fn from_code(result: Result<T, &'static str>) -> Result<Self, String> {
        match result {
            Ok(value) => Ok(Self::Ok(value)),
            Err(code) if E::NAMES.contains(&code) => Ok(Self::Err(code, PhantomData)),
            Err(code) => Err(format!("error code {code:?} is not one of the family's {:?}", E::NAMES)),
        }
    }
}

impl<T: Encode, E: ErrorCodes> Encode for StfResult<T, E> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Ok(value) => {
                out.push(0);
                value.encode_to(out);
            }
            Self::Err(code, _) => {
                out.push(1);
                // `from_code` and `decode` only build codes from the table.
                out.push(E::NAMES.iter().position(|n| n == code).unwrap_or(usize::MAX) as u8);
            }
        }
    }
}

impl<T: Decode, E: ErrorCodes> Decode for StfResult<T, E> {
    fn decode(d: &mut Decoder<'_>) -> Result<Self, orrery_codec::Error> {
        match d.u8()? {
            0 => Ok(Self::Ok(T::decode(d)?)),
            1 => {
                let index = d.u8()?;
                let name =
                    E::NAMES.get(usize::from(index)).ok_or(orrery_codec::Error::InvalidDiscriminator {
                        type_name: "ErrorCode",
                        value: index.into(),
                    })?;
                Ok(Self::Err(name, PhantomData))
            }
            value => {
                Err(orrery_codec::Error::InvalidDiscriminator { type_name: "Output", value: value.into() })
            }
        }
    }
}

impl<T: Describe, E: ErrorCodes> Describe for StfResult<T, E> {
    fn describe(&self) -> Value {
        match self {
            Self::Ok(value) => Value::variant("ok", value.describe()),
            Self::Err(code, _) => Value::variant("err", Value::variant(code, Value::Null)),
        }
    }
}

/// `ServicesStatisticsMapEntry`: one entry of `π_S` as the vectors spell it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub(crate) struct ServicesStatisticsMapEntry {
    pub id: ServiceId,
    pub record: ServiceActivityRecord,
}

/// `π_S` from its vector form. Later duplicates of a service would overwrite earlier ones, which the
/// round trip back to bytes then exposes as a mismatch.
pub(crate) fn services_statistics(
    entries: &[ServicesStatisticsMapEntry],
) -> orrery_state::ServicesStatistics {
    entries.iter().map(|e| (e.id, e.record.clone())).collect()
}

/// `π_S` in its vector form, in key order.
pub(crate) fn services_statistics_entries(
    stats: &orrery_state::ServicesStatistics,
) -> Vec<ServicesStatisticsMapEntry> {
    stats.iter().map(|(id, record)| ServicesStatisticsMapEntry { id: *id, record: record.clone() }).collect()
}
