//! The privileged services χ (GP 0.7.2 §9.4).

use std::collections::BTreeMap;

use orrery_codec::{Decode, Describe, Encode};
use orrery_types::{Gas, ServiceId};

/// `χ = (χ_M, χ_A, χ_V, χ_R, χ_Z)`, in the order of row `C(12)`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Describe)]
pub struct Privileges {
    /// `χ_M`: the manager (blessing) service.
    pub bless: ServiceId,
    /// `χ_A`: per core, the service that may alter its authorizer queue.
    #[codec(len = cores_count)]
    pub assign: Vec<ServiceId>,
    /// `χ_V`: the service that may set the next validator keys.
    pub designate: ServiceId,
    /// `χ_R`: the registrar service.
    pub register: ServiceId,
    /// `χ_Z`: services accumulated every block, with their free gas.
    pub always_acc: BTreeMap<ServiceId, Gas>,
}
