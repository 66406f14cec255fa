//! Chain specs (JIP-4): the JSON file that names a JAM network, its boot nodes and its genesis,
//! read, checked and written; the dev chain's genesis ([`dev`]); and work packages for a chain's
//! services, the dev chain's manager commands among them ([`package`]).
//!
//! A spec file has `id`, optional `bootnodes` (`<peer name>@<ip>:<port>`, the name JAMNP-S's
//! `N(k)` of an Ed25519 key), `genesis_header` (hex of the GP-encoded header), `genesis_state`
//! (31-byte state key hex → value hex, the rows of `T(σ)`, GP 0.7.2 Appendix D) and
//! `protocol_parameters` (hex of `fetch` selector 0's constants, GP 0.7.2 §B.5). [`JamChainSpec::
//! from_json`] refuses a file whose fields are wrong with [`ChainSpecError::Field`], naming the
//! field. Besides each field decoding, it checks what makes the pair a genesis: the header names
//! no parent and no prior state (zero hashes, as the vectors' and polkajam's genesis headers do:
//! GP gives the genesis header no parent, so nothing precedes its state root), its slot is the
//! state's `τ`, and its epoch marker names the state's active validators `κ`, which author block 1.
//!
//! What is not here: custom protocol parameters (`ChainSpec` holds tiny and full only, so other
//! parameters are refused), GP 0.6.7's 138-byte parameter layout of the JIP's own example, and
//! anything a node does with the boot nodes (they are checked and kept, not dialled).

pub mod dev;
pub mod package;
pub mod params;

use std::net::SocketAddr;

use orrery_codec::{decode_exact, Encode};
use orrery_import::ChainState;
use orrery_state::StateKey;
use orrery_types::{ChainSpec, Header};
use serde_json::{Map, Value};

/// A spec file that cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainSpecError {
    #[error("the chain spec is not JSON: {0}")]
    Json(String),
    #[error("the chain spec's `{field}`: {why}")]
    Field { field: String, why: String },
}

fn field(field: impl Into<String>, why: impl Into<String>) -> ChainSpecError {
    ChainSpecError::Field { field: field.into(), why: why.into() }
}

/// A boot node: a peer's Ed25519 key (given as its JAMNP-S name) and address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootnode {
    pub ed25519: [u8; 32],
    pub address: SocketAddr,
}

impl Bootnode {
    /// `<name>@<ip>:<port>`, the IPv4 or IPv6 address optionally bracketed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, address) = text.split_once('@').ok_or("no `@` between the peer name and address")?;
        let ed25519 = orrery_keys::peer_key(name)
            .ok_or_else(|| format!("{name:?} is not a peer name (`e` and 52 base-32 digits)"))?;
        let address = address
            .parse::<SocketAddr>()
            .or_else(|_| {
                // An unbracketed IPv6 address: the port follows the last colon.
                let (ip, port) = address.rsplit_once(':').ok_or(())?;
                Ok::<_, ()>(SocketAddr::new(ip.parse().map_err(|_| ())?, port.parse().map_err(|_| ())?))
            })
            .map_err(|()| format!("{address:?} is not an IP address and port"))?;
        Ok(Self { ed25519, address })
    }
}

impl std::fmt::Display for Bootnode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", orrery_keys::peer_name(&self.ed25519), self.address)
    }
}

/// A chain spec file's content, checked.
#[derive(Debug, Clone)]
pub struct JamChainSpec {
    pub id: String,
    pub bootnodes: Vec<Bootnode>,
    pub genesis_header: Header,
    /// The genesis state, kept as the file's rows (its root is theirs).
    pub genesis_state: ChainState,
    pub spec: ChainSpec,
}

impl PartialEq for JamChainSpec {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.bootnodes == other.bootnodes
            && self.genesis_header == other.genesis_header
            && self.spec == other.spec
            && self.genesis_state.pairs().eq(other.genesis_state.pairs())
    }
}

/// The largest spec file read: a full-spec genesis with the bootstrap service is a few MB.
pub const MAX_FILE_SIZE: u64 = 256 << 20;

impl JamChainSpec {
    /// A spec from its parts, checked as a file would be.
    pub fn new(
        id: String,
        bootnodes: Vec<Bootnode>,
        spec: ChainSpec,
        genesis_header: Header,
        genesis_state: ChainState,
    ) -> Result<Self, ChainSpecError> {
        let this = Self { id, bootnodes, genesis_header, genesis_state, spec };
        this.check_genesis()?;
        Ok(this)
    }

    /// Reads and checks a spec file.
    pub fn read(path: &std::path::Path) -> Result<Self, String> {
        let size = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
        if size > MAX_FILE_SIZE {
            return Err(format!("{}: {size} bytes, more than a chain spec may be", path.display()));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks a spec's JSON.
    pub fn from_json(text: &str) -> Result<Self, ChainSpecError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ChainSpecError::Json(e.to_string()))?;
        let Value::Object(root) = value else {
            return Err(ChainSpecError::Json("not an object".into()));
        };
        if let Some(unknown) = root.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(field(unknown.as_str(), "not a JIP-4 field"));
        }
        let id = match root.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(_) => return Err(field("id", "not a non-empty string")),
            None => return Err(field("id", "missing")),
        };
        let bootnodes = match root.get("bootnodes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(nodes)) => nodes
                .iter()
                .enumerate()
                .map(|(i, node)| {
                    let text =
                        node.as_str().ok_or_else(|| field(format!("bootnodes[{i}]"), "not a string"))?;
                    Bootnode::parse(text).map_err(|why| field(format!("bootnodes[{i}]"), why))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(field("bootnodes", "not a list")),
        };
        let params = hex_field(&root, "protocol_parameters")?;
        let spec = params::decode(&params).map_err(|why| field("protocol_parameters", why))?;
        let header_bytes = hex_field(&root, "genesis_header")?;
        let genesis_header: Header = decode_exact(&header_bytes, spec.lengths())
            .map_err(|e| field("genesis_header", format!("not a {} header: {e}", spec.name)))?;
        let rows = state_rows(&root)?;
        let genesis_state = ChainState::from_rows(&spec, rows)
            .map_err(|e| field("genesis_state", format!("not a {} state: {e}", spec.name)))?;
        Self::new(id, bootnodes, spec, genesis_header, genesis_state)
    }

    /// The spec as JSON (fields in name order, hex without `0x`, as the JIP's example).
    pub fn to_json(&self) -> String {
        let mut root = Map::new();
        root.insert("id".into(), Value::String(self.id.clone()));
        root.insert(
            "bootnodes".into(),
            Value::Array(self.bootnodes.iter().map(|b| Value::String(b.to_string())).collect()),
        );
        root.insert("genesis_header".into(), Value::String(hex::encode(self.genesis_header.encode())));
        let state: Map<String, Value> = self
            .genesis_state
            .pairs()
            .map(|(k, v)| (hex::encode(k), Value::String(hex::encode(v))))
            .collect();
        root.insert("genesis_state".into(), Value::Object(state));
        root.insert("protocol_parameters".into(), Value::String(hex::encode(params::encode(&self.spec))));
        // A map of strings always serializes.
        serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default()
    }

    /// The genesis header's hash.
    pub fn genesis_hash(&self) -> [u8; 32] {
        orrery_import::header_hash(&self.genesis_header)
    }

    /// What makes the header the genesis of the state (see the crate doc).
    fn check_genesis(&self) -> Result<(), ChainSpecError> {
        let (header, state) = (&self.genesis_header, self.genesis_state.state());
        if header.parent != [0; 32] {
            return Err(field("genesis_header", "a genesis header has no parent (zero hash)"));
        }
        if header.parent_state_root != [0; 32] {
            return Err(field("genesis_header", "a genesis header has no prior state root (zero hash)"));
        }
        if header.slot != state.timeslot {
            return Err(field(
                "genesis_header",
                format!("slot {} but the genesis state's τ is {}", header.slot, state.timeslot),
            ));
        }
        let mark = header
            .epoch_mark
            .as_ref()
            .ok_or_else(|| field("genesis_header", "no epoch marker naming the first validators"))?;
        let same = mark.validators.len() == state.active_validators.len()
            && mark
                .validators
                .iter()
                .zip(state.active_validators.iter())
                .all(|(m, v)| m.bandersnatch == v.bandersnatch && m.ed25519 == v.ed25519);
        if !same {
            return Err(field(
                "genesis_header",
                "the epoch marker's validators are not the genesis state's active validators κ",
            ));
        }
        Ok(())
    }
}

const FIELDS: [&str; 5] = ["id", "bootnodes", "genesis_header", "genesis_state", "protocol_parameters"];

fn hex_field(root: &Map<String, Value>, name: &str) -> Result<Vec<u8>, ChainSpecError> {
    let text = root.get(name).ok_or_else(|| field(name, "missing"))?;
    let text = text.as_str().ok_or_else(|| field(name, "not a string"))?;
    hex_bytes(text).map_err(|why| field(name, why))
}

/// Hex with or without `0x`.
fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    hex::decode(digits).map_err(|e| format!("not hex: {e}"))
}

fn state_rows(root: &Map<String, Value>) -> Result<Vec<(StateKey, Vec<u8>)>, ChainSpecError> {
    let state = match root.get("genesis_state") {
        Some(Value::Object(state)) => state,
        Some(_) => return Err(field("genesis_state", "not an object")),
        None => return Err(field("genesis_state", "missing")),
    };
    state
        .iter()
        .map(|(key, value)| {
            let name = || format!("genesis_state[{key}]");
            let key_bytes = hex_bytes(key).map_err(|why| field(name(), format!("the key is {why}")))?;
            let key_bytes: StateKey = key_bytes
                .try_into()
                .map_err(|k: Vec<u8>| field(name(), format!("the key is {} bytes, not 31", k.len())))?;
            let value = value.as_str().ok_or_else(|| field(name(), "the value is not a string"))?;
            let value = hex_bytes(value).map_err(|why| field(name(), format!("the value is {why}")))?;
            Ok((key_bytes, value))
        })
        .collect()
}
