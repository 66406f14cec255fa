//! JIP-3's field types ("Types" in the JIP): how each is written, read back from untrusted bytes,
//! and shown to a person (one line of text, or JSON).
//!
//! Integers are fixed-width little-endian (`E_1`, `E_2`, `E_4`, `E_8`), sequences marked `len++`
//! carry a general-natural length prefix, `[u8; C]` and `[u8; ceil(C/8)]` take the core count `C`
//! from the node information's JAM parameters (the decoder's [`Lengths`]).

use std::fmt::Write as _;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

use orrery_codec::{Compact, Decoder, Encode, Error};

/// A value of one of the JIP's field types.
pub trait Field: Sized {
    fn put(&self, out: &mut Vec<u8>);
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error>;
    /// For a log line: short, no newlines.
    fn show(&self, out: &mut String);
    /// A JSON value.
    fn json(&self, out: &mut String);
    /// An arbitrary value, for round-trip tests.
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self;
}

/// xorshift64: the tests' source of arbitrary values.
#[cfg(test)]
#[derive(Debug)]
pub struct Rng(pub u64);

#[cfg(test)]
impl Rng {
    pub fn draw(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

macro_rules! int_field {
    ($($t:ident),*) => {$(
        impl Field for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
                d.$t()
            }
            fn show(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
            fn json(&self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
            #[cfg(test)]
            fn sample(r: &mut Rng) -> Self {
                r.draw() as $t
            }
        }
    )*};
}
int_field!(u8, u16, u32, u64);

impl Field for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        match d.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(Error::InvalidDiscriminator { type_name: "bool", value: value.into() }),
        }
    }
    fn show(&self, out: &mut String) {
        out.push_str(if *self { "yes" } else { "no" });
    }
    fn json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        r.draw() & 1 == 1
    }
}

/// Hashes, peer IDs (Ed25519 keys) and VRF outputs.
impl Field for [u8; 32] {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        d.array()
    }
    fn show(&self, out: &mut String) {
        // Eight hex digits name a block or a peer well enough on a log line; JSON has them all.
        out.push_str("0x");
        hex(&self[..4], out);
        out.push('…');
    }
    fn json(&self, out: &mut String) {
        out.push_str("\"0x");
        hex(self, out);
        out.push('"');
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        std::array::from_fn(|_| r.draw() as u8)
    }
}

fn hex(bytes: &[u8], out: &mut String) {
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

/// The longest `Reason` (`String<128>`), the only string in an event.
pub const REASON_MAX: usize = 128;

/// `String<N>`: the length and the UTF-8, cut to at most `max` octets at a character boundary.
pub(crate) fn put_string(out: &mut Vec<u8>, text: &str, max: usize) {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Compact(end as u64).encode_to(out);
    out.extend_from_slice(&text.as_bytes()[..end]);
}

/// `String<N>` read back: at most `max` octets of valid UTF-8.
pub(crate) fn get_string(d: &mut Decoder<'_>, max: usize, what: &'static str) -> Result<String, Error> {
    let len = d.length()?;
    if len > max {
        return Err(Error::InvalidValue(what));
    }
    String::from_utf8(d.take(len)?.to_vec()).map_err(|_| Error::InvalidValue(what))
}

fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `Reason = String<128>`. Shown quoted with control characters escaped, so a peer's text cannot
/// forge a log line.
impl Field for String {
    fn put(&self, out: &mut Vec<u8>) {
        put_string(out, self, REASON_MAX);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        get_string(d, REASON_MAX, "Reason (String<128> of UTF-8)")
    }
    fn show(&self, out: &mut String) {
        json_string(self, out);
    }
    fn json(&self, out: &mut String) {
        json_string(self, out);
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        let len = (r.draw() % 5) as usize;
        (0..len).map(|i| ['a', 'é', '"', '\n', '中'][(r.draw() as usize + i) % 5]).collect()
    }
}

/// `Peer Address = [u8; 16] ++ u16`: IPv4 as IPv4-mapped IPv6, read back as IPv4.
impl Field for SocketAddr {
    fn put(&self, out: &mut Vec<u8>) {
        let ip = match self {
            SocketAddr::V4(v4) => v4.ip().to_ipv6_mapped(),
            SocketAddr::V6(v6) => *v6.ip(),
        };
        out.extend_from_slice(&ip.octets());
        out.extend_from_slice(&self.port().to_le_bytes());
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let ip = Ipv6Addr::from(d.array::<16>()?);
        let port = d.u16()?;
        Ok(match ip.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), port),
            None => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, 0)),
        })
    }
    fn show(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
    fn json(&self, out: &mut String) {
        let _ = write!(out, "\"{self}\"");
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        if r.draw() & 1 == 0 {
            SocketAddr::new(std::net::Ipv4Addr::from(r.draw() as u32).into(), r.draw() as u16)
        } else {
            SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, r.draw() as u16),
                r.draw() as u16,
                0,
                0,
            ))
        }
    }
}

/// `Option<T> = 0 OR (1 ++ T)`.
impl<T: Field> Field for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.put(out);
            }
        }
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        match d.u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::get(d)?)),
            value => Err(Error::InvalidDiscriminator { type_name: "Option", value: value.into() }),
        }
    }
    fn show(&self, out: &mut String) {
        match self {
            None => out.push('-'),
            Some(v) => v.show(out),
        }
    }
    fn json(&self, out: &mut String) {
        match self {
            None => out.push_str("null"),
            Some(v) => v.json(out),
        }
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        (r.draw() & 1 == 1).then(|| T::sample(r))
    }
}

/// `len++[T]`. The decoder's length check bounds the allocation by the frame.
impl<T: Field> Field for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        Compact(self.len() as u64).encode_to(out);
        for v in self {
            v.put(out);
        }
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let len = d.length()?;
        (0..len).map(|_| T::get(d)).collect()
    }
    fn show(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            v.show(out);
        }
        out.push(']');
    }
    fn json(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            v.json(out);
        }
        out.push(']');
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        let len = r.draw() % 4;
        (0..len).map(|_| T::sample(r)).collect()
    }
}

/// `A ++ B`.
impl<A: Field, B: Field> Field for (A, B) {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        Ok((A::get(d)?, B::get(d)?))
    }
    fn show(&self, out: &mut String) {
        self.0.show(out);
        out.push(':');
        self.1.show(out);
    }
    fn json(&self, out: &mut String) {
        out.push('[');
        self.0.json(out);
        out.push(',');
        self.1.json(out);
        out.push(']');
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        (A::sample(r), B::sample(r))
    }
}

/// `[u8; C]`: one count per core (status event's guarantees in the pool).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PerCore(pub Vec<u8>);

/// `[u8; ceil(C / 8)]`: one bit per core (an assurance's availability bitfield), as in the block's
/// assurance extrinsic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoreBits(pub Vec<u8>);

fn cores(d: &Decoder<'_>, what: &'static str) -> Result<usize, Error> {
    Ok(d.lengths(what)?.cores_count())
}

impl Field for PerCore {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let c = cores(d, "guarantees by core ([u8; C])")?;
        Ok(Self(d.take(c)?.to_vec()))
    }
    fn show(&self, out: &mut String) {
        out.push('[');
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{n}");
        }
        out.push(']');
    }
    fn json(&self, out: &mut String) {
        out.push('[');
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{n}");
        }
        out.push(']');
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        // The tests decode with two cores (the tiny spec).
        Self(vec![r.draw() as u8, r.draw() as u8])
    }
}

impl Field for CoreBits {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
        let c = cores(d, "availability bitfield ([u8; ceil(C/8)])")?;
        Ok(Self(d.take(c.div_ceil(8))?.to_vec()))
    }
    /// Core 0 first, as `1` (available) or `0`.
    fn show(&self, out: &mut String) {
        for byte in &self.0 {
            for bit in 0..8 {
                out.push(if byte >> bit & 1 == 1 { '1' } else { '0' });
            }
        }
    }
    fn json(&self, out: &mut String) {
        out.push_str("\"0x");
        hex(&self.0, out);
        out.push('"');
    }
    #[cfg(test)]
    fn sample(r: &mut Rng) -> Self {
        Self(vec![r.draw() as u8 & 0b11])
    }
}

/// A single-byte enumeration of the JIP's, with the meaning of each value.
macro_rules! byte_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:literal $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vm])* $v = $n),* }

        impl $name {
            pub fn text(self) -> &'static str {
                match self { $($name::$v => $text),* }
            }
        }

        impl Field for $name {
            fn put(&self, out: &mut Vec<u8>) {
                out.push(*self as u8);
            }
            fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
                match d.u8()? {
                    $($n => Ok($name::$v),)*
                    value => Err(Error::InvalidDiscriminator {
                        type_name: stringify!($name),
                        value: value.into(),
                    }),
                }
            }
            fn show(&self, out: &mut String) {
                out.push_str(self.text());
            }
            fn json(&self, out: &mut String) {
                let _ = write!(out, "\"{}\"", self.text());
            }
            #[cfg(test)]
            fn sample(r: &mut Rng) -> Self {
                const ALL: &[$name] = &[$($name::$v),*];
                ALL[(r.draw() % ALL.len() as u64) as usize]
            }
        }
    };
}

byte_enum!(
    /// `Connection Side`: which end of a connection or stream acted.
    ConnectionSide { Local = 0 "local", Remote = 1 "remote" }
);
byte_enum!(
    /// A block request's direction (CE 128).
    Direction { AscendingExclusive = 0 "ascending", DescendingInclusive = 1 "descending" }
);
byte_enum!(
    /// `Guarantee Discard Reason`.
    GuaranteeDiscardReason {
        ReportedOnChain = 0 "reported on-chain",
        Replaced = 1 "replaced by a better guarantee",
        CannotBeReported = 2 "cannot be reported on-chain",
        TooMany = 3 "too many guarantees",
        Other = 4 "other",
    }
);
byte_enum!(
    /// `Announced Preimage Forget Reason`.
    PreimageForgetReason {
        ProvidedOnChain = 0 "provided on-chain",
        NotRequested = 1 "not requested on-chain",
        AcquireFailed = 2 "failed to acquire",
        TooMany = 3 "too many announced preimages",
        BadLength = 4 "bad length",
        Other = 5 "other",
    }
);
byte_enum!(
    /// `Preimage Discard Reason`.
    PreimageDiscardReason {
        ProvidedOnChain = 0 "provided on-chain",
        NotRequested = 1 "not requested on-chain",
        TooMany = 2 "too many preimages",
        Other = 3 "other",
    }
);

/// A record of the JIP's (`A ++ B ++ ...` with named parts): a struct written field by field.
macro_rules! record {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident : $t:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name { $($(#[$fm])* pub $f: $t),* }

        impl Field for $name {
            fn put(&self, out: &mut Vec<u8>) {
                $(self.$f.put(out);)*
            }
            fn get(d: &mut Decoder<'_>) -> Result<Self, Error> {
                Ok(Self { $($f: Field::get(d)?),* })
            }
            fn show(&self, out: &mut String) {
                out.push('{');
                $(
                    out.push_str(stringify!($f));
                    out.push('=');
                    self.$f.show(out);
                    out.push(' ');
                )*
                out.pop();
                out.push('}');
            }
            fn json(&self, out: &mut String) {
                out.push('{');
                $(
                    out.push_str(concat!("\"", stringify!($f), "\":"));
                    self.$f.json(out);
                    out.push(',');
                )*
                out.pop();
                out.push('}');
            }
            #[cfg(test)]
            fn sample(r: &mut Rng) -> Self {
                Self { $($f: Field::sample(r)),* }
            }
        }
    };
}

record!(
    /// `Block Outline`.
    BlockOutline {
        /// In bytes.
        size: u32,
        hash: [u8; 32],
        tickets: u32,
        preimages: u32,
        /// In bytes.
        preimages_size: u32,
        guarantees: u32,
        assurances: u32,
        dispute_verdicts: u32,
    }
);
record!(
    /// `Exec Cost`.
    ExecCost {
        gas: u64,
        /// Wall-clock time, in nanoseconds.
        ns: u64,
    }
);
record!(
    /// `Is-Authorized Cost`.
    IsAuthorizedCost { total: ExecCost, compile_ns: u64, host_calls: ExecCost }
);
record!(
    /// `Refine Cost`.
    RefineCost {
        total: ExecCost,
        compile_ns: u64,
        historical_lookup: ExecCost,
        machine_expunge: ExecCost,
        peek_poke_pages: ExecCost,
        invoke: ExecCost,
        other: ExecCost,
    }
);
record!(
    /// `Accumulate Cost`.
    AccumulateCost {
        calls: u32,
        transfers: u32,
        items: u32,
        total: ExecCost,
        compile_ns: u64,
        read_write: ExecCost,
        lookup: ExecCost,
        query_solicit_forget_provide: ExecCost,
        info_new_upgrade_eject: ExecCost,
        transfer: ExecCost,
        /// Gas charged for transfer processing by destination services.
        transfer_gas: u64,
        other: ExecCost,
    }
);
record!(
    /// `Import Spec`: a segments root or work-package hash, and the export index (plus 2^15 for a
    /// work-package hash).
    ImportSpec { root: [u8; 32], index: u16 }
);
record!(
    /// `Work-Item Outline`.
    WorkItemOutline {
        service: u32,
        payload_size: u32,
        refine_gas: u64,
        accumulate_gas: u64,
        /// The sum of the extrinsics' lengths.
        extrinsic_size: u32,
        imports: Vec<ImportSpec>,
        exports: u16,
    }
);
record!(
    /// `Work-Package Outline`.
    WorkPackageOutline {
        /// In bytes, without the extrinsic data.
        size: u32,
        hash: [u8; 32],
        anchor: [u8; 32],
        lookup_anchor_slot: u32,
        prerequisites: Vec<[u8; 32]>,
        items: Vec<WorkItemOutline>,
    }
);
record!(
    /// `Work-Report Outline`.
    WorkReportOutline { hash: [u8; 32], bundle_size: u32, erasure_root: [u8; 32], segments_root: [u8; 32] }
);
record!(
    /// `Guarantee Outline`.
    GuaranteeOutline { report: [u8; 32], slot: u32, guarantors: Vec<u16> }
);
