//! The partial state `S` (GP 0.7.2 eq. 12.16) and a copy-on-write view of it.
//!
//! Every service accumulated in one round starts from the same state, and each invocation carries
//! two copies of it (the regular and the exceptional dimension). Copying `δ` for each would cost
//! the whole state per service, so an invocation sees the shared state through a [`StateView`]
//! that records only what it changed ([`StateChanges`]). Changed values sit behind [`Arc`]s, so a
//! `checkpoint` copies pointers, and a value is copied only when one dimension changes it while the
//! other still holds it.

use std::collections::BTreeMap;
use std::sync::Arc;

use orrery_state::{AuthQueues, Privileges, ServiceAccount, ValidatorData, ValidatorsData};
use orrery_types::constants::AUTH_QUEUE_SIZE;
use orrery_types::{ChainSpec, ServiceId};

use crate::general::Accounts;

/// `S = (d, i, q, (m, a, v, r, z))`: what accumulation reads and changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialState {
    /// `d`: the service accounts.
    pub accounts: BTreeMap<ServiceId, ServiceAccount>,
    /// `i`: the validator keys staged for the epoch after next (`ι`).
    pub staging: ValidatorsData,
    /// `q`: the authorizer queues (`φ`).
    pub auth_queues: AuthQueues,
    /// `(m, a, v, r, z)`: the privileged services (`χ`).
    pub privileges: Privileges,
}

impl PartialState {
    /// `accounts` and nothing else of a chain: null keys staged, zero authorizer queues, every
    /// privilege held by `privileged` (a service absent from `accounts`, such as 0 in a service's
    /// own tests, for none). What a local accumulation starts from: `orrery service run`, the
    /// tests of a service outside any chain.
    pub fn local(
        spec: &ChainSpec,
        accounts: BTreeMap<ServiceId, ServiceAccount>,
        privileged: ServiceId,
    ) -> Self {
        Self {
            accounts,
            staging: ValidatorsData(vec![ValidatorData::NULL; spec.validators_count.into()]),
            auth_queues: AuthQueues(vec![[[0; 32]; AUTH_QUEUE_SIZE]; spec.cores_count.into()]),
            privileges: Privileges {
                bless: privileged,
                assign: vec![privileged; spec.cores_count.into()],
                designate: privileged,
                register: privileged,
                always_acc: BTreeMap::new(),
            },
        }
    }
}

/// What one accumulation changed relative to the partial state it started from. `None` for an
/// account means removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    pub accounts: BTreeMap<ServiceId, Option<Arc<ServiceAccount>>>,
    pub staging: Option<Arc<ValidatorsData>>,
    pub auth_queues: Option<Arc<AuthQueues>>,
    pub privileges: Option<Arc<Privileges>>,
}

impl StateChanges {
    /// `base` with these changes applied.
    pub fn apply_to(&self, base: &PartialState) -> PartialState {
        let mut state = base.clone();
        for (id, account) in &self.accounts {
            match account {
                Some(account) => state.accounts.insert(*id, ServiceAccount::clone(account)),
                None => state.accounts.remove(id),
            };
        }
        if let Some(staging) = &self.staging {
            state.staging = ValidatorsData::clone(staging);
        }
        if let Some(queues) = &self.auth_queues {
            state.auth_queues = AuthQueues::clone(queues);
        }
        if let Some(privileges) = &self.privileges {
            state.privileges = Privileges::clone(privileges);
        }
        state
    }
}

/// A partial state seen through the changes made to it so far.
#[derive(Debug, Clone)]
pub struct StateView<'a> {
    base: &'a PartialState,
    changes: StateChanges,
}

impl<'a> StateView<'a> {
    /// The base state, unchanged.
    pub fn new(base: &'a PartialState) -> Self {
        Self { base, changes: StateChanges::default() }
    }

    /// The state this view started from.
    pub fn base(&self) -> &'a PartialState {
        self.base
    }

    /// What has changed.
    pub fn changes(&self) -> &StateChanges {
        &self.changes
    }

    /// The changes, consuming the view.
    pub fn into_changes(self) -> StateChanges {
        self.changes
    }

    /// `d[id]`.
    pub fn account(&self, id: ServiceId) -> Option<&ServiceAccount> {
        match self.changes.accounts.get(&id) {
            Some(changed) => changed.as_deref(),
            None => self.base.accounts.get(&id),
        }
    }

    /// Whether `id ∈ K(d)`.
    pub fn contains(&self, id: ServiceId) -> bool {
        self.account(id).is_some()
    }

    /// `d[id]`, to change; copied into the changes on first use.
    pub fn account_mut(&mut self, id: ServiceId) -> Option<&mut ServiceAccount> {
        if !self.changes.accounts.contains_key(&id) {
            let account = self.base.accounts.get(&id)?;
            self.changes.accounts.insert(id, Some(Arc::new(account.clone())));
        }
        self.changes.accounts.get_mut(&id)?.as_mut().map(Arc::make_mut)
    }

    /// `d ∪ {id ↦ account}`.
    pub fn insert_account(&mut self, id: ServiceId, account: ServiceAccount) {
        self.changes.accounts.insert(id, Some(Arc::new(account)));
    }

    /// `d ∖ {id}`.
    pub fn remove_account(&mut self, id: ServiceId) {
        if self.base.accounts.contains_key(&id) {
            self.changes.accounts.insert(id, None);
        } else {
            self.changes.accounts.remove(&id);
        }
    }

    /// `i`.
    pub fn staging(&self) -> &ValidatorsData {
        self.changes.staging.as_deref().unwrap_or(&self.base.staging)
    }

    /// Replaces `i`.
    pub fn set_staging(&mut self, staging: ValidatorsData) {
        self.changes.staging = Some(Arc::new(staging));
    }

    /// `q`.
    pub fn auth_queues(&self) -> &AuthQueues {
        self.changes.auth_queues.as_deref().unwrap_or(&self.base.auth_queues)
    }

    /// `q`, to change.
    pub fn auth_queues_mut(&mut self) -> &mut AuthQueues {
        let queues = self.changes.auth_queues.get_or_insert_with(|| Arc::new(self.base.auth_queues.clone()));
        Arc::make_mut(queues)
    }

    /// `(m, a, v, r, z)`.
    pub fn privileges(&self) -> &Privileges {
        self.changes.privileges.as_deref().unwrap_or(&self.base.privileges)
    }

    /// `(m, a, v, r, z)`, to change.
    pub fn privileges_mut(&mut self) -> &mut Privileges {
        let privileges =
            self.changes.privileges.get_or_insert_with(|| Arc::new(self.base.privileges.clone()));
        Arc::make_mut(privileges)
    }
}

impl Accounts for StateView<'_> {
    fn account(&self, id: ServiceId) -> Option<&ServiceAccount> {
        StateView::account(self, id)
    }
}
