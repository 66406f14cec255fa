//! The network model: what happens to one message between two reachable endpoints (latency,
//! loss, duplication, reordering), and which endpoints partitions keep apart. Every random choice
//! draws from the simulation's one seeded generator, in the order the simulation asks.

use std::collections::BTreeSet;

use orrery_node::Millis;
use rand::Rng;

/// One-way latency of a message, drawn per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    Fixed(Millis),
    /// Uniform in `min..=max`.
    Uniform {
        min: Millis,
        max: Millis,
    },
}

impl Latency {
    fn draw(self, rng: &mut impl Rng) -> Millis {
        match self {
            Latency::Fixed(ms) => ms,
            Latency::Uniform { min, max } if max > min => rng.gen_range(min..=max),
            Latency::Uniform { min, .. } => min,
        }
    }
}

/// Probabilities are in parts per million, so the model holds no floats and a config compares
/// and prints exactly.
pub type Ppm = u32;

/// What the network does to messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    pub latency: Latency,
    /// Chance a message (or a request, or a response) is lost.
    pub loss: Ppm,
    /// Chance a one-way message arrives twice (the copy with its own latency).
    pub duplicate: Ppm,
    /// Chance a message is held back by up to `reorder_ms` more, so later ones overtake it.
    pub reorder: Ppm,
    pub reorder_ms: Millis,
    /// How long a connection takes to come up (handshakes).
    pub connect_ms: Millis,
    /// How long a peer takes to notice a connection is dead (a crash, a partition).
    pub detect_ms: Millis,
    /// How long after an honest node drops a peer the two dial again.
    pub redial_ms: Millis,
    /// The driver's deadline for a response.
    pub request_timeout_ms: Millis,
}

impl Default for NetConfig {
    /// A calm LAN-like network: 20–80 ms, nothing lost.
    fn default() -> Self {
        Self {
            latency: Latency::Uniform { min: 20, max: 80 },
            loss: 0,
            duplicate: 0,
            reorder: 0,
            reorder_ms: 0,
            connect_ms: 100,
            detect_ms: 2_000,
            redial_ms: 12_000,
            request_timeout_ms: 5_000,
        }
    }
}

impl NetConfig {
    /// A rough network: 20–400 ms, 2% lost, 1% duplicated, 5% held back up to a second.
    pub fn rough() -> Self {
        Self {
            latency: Latency::Uniform { min: 20, max: 400 },
            loss: 20_000,
            duplicate: 10_000,
            reorder: 50_000,
            reorder_ms: 1_000,
            ..Self::default()
        }
    }

    fn chance(rng: &mut impl Rng, ppm: Ppm) -> bool {
        ppm > 0 && rng.gen_range(0..1_000_000u32) < ppm
    }

    fn one_delay(&self, rng: &mut impl Rng) -> Millis {
        let mut delay = self.latency.draw(rng);
        if Self::chance(rng, self.reorder) && self.reorder_ms > 0 {
            delay += rng.gen_range(1..=self.reorder_ms);
        }
        // Never zero: an answer never arrives in the same instant as its question.
        delay.max(1)
    }

    /// The delays after which a one-way message arrives: none (lost), one, or two (duplicated).
    pub fn message_delays(&self, rng: &mut impl Rng) -> Vec<Millis> {
        if Self::chance(rng, self.loss) {
            return Vec::new();
        }
        let mut delays = vec![self.one_delay(rng)];
        if Self::chance(rng, self.duplicate) {
            delays.push(self.one_delay(rng));
        }
        delays
    }

    /// The delay of a request or a response (a QUIC stream: never duplicated), `None` if lost.
    pub fn stream_delay(&self, rng: &mut impl Rng) -> Option<Millis> {
        if Self::chance(rng, self.loss) {
            return None;
        }
        Some(self.one_delay(rng))
    }
}

/// From `from` until `until`, endpoints in different groups cannot reach each other. Endpoints in
/// no group form one more group together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub groups: Vec<BTreeSet<usize>>,
    pub from: Millis,
    pub until: Millis,
}

impl Partition {
    /// Splits the nodes in two: `side` and everyone else.
    pub fn split(side: impl IntoIterator<Item = usize>, from: Millis, until: Millis) -> Self {
        Self { groups: vec![side.into_iter().collect()], from, until }
    }

    fn group_of(&self, who: usize) -> usize {
        self.groups.iter().position(|g| g.contains(&who)).unwrap_or(self.groups.len())
    }

    pub fn active_at(&self, t: Millis) -> bool {
        self.from <= t && t < self.until
    }

    /// Whether this partition, when active, separates `a` and `b`.
    pub fn separates(&self, a: usize, b: usize) -> bool {
        self.group_of(a) != self.group_of(b)
    }
}

/// Whether any partition active at `t` keeps `a` and `b` apart.
pub fn partitioned(partitions: &[Partition], a: usize, b: usize, t: Millis) -> bool {
    partitions.iter().any(|p| p.active_at(t) && p.separates(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn partition_groups_and_times() {
        let p = Partition::split([0, 1, 2], 1_000, 2_000);
        assert!(p.separates(0, 3));
        assert!(p.separates(5, 2));
        assert!(!p.separates(0, 2));
        assert!(!p.separates(3, 5), "the unnamed rest is one group");
        let ps = [p];
        assert!(!partitioned(&ps, 0, 3, 999));
        assert!(partitioned(&ps, 0, 3, 1_000));
        assert!(partitioned(&ps, 0, 3, 1_999));
        assert!(!partitioned(&ps, 0, 3, 2_000), "healed at `until`");
        // Three groups: 0 | 1 | rest.
        let three = Partition { groups: vec![[0].into(), [1].into()], from: 0, until: 10 };
        assert!(three.separates(0, 1) && three.separates(1, 2) && !three.separates(2, 3));
    }

    #[test]
    fn calm_network_delivers_once_within_the_latency_bounds() {
        let net = NetConfig::default();
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for _ in 0..1_000 {
            let d = net.message_delays(&mut rng);
            assert_eq!(d.len(), 1);
            assert!((20..=80).contains(&d[0]), "{d:?}");
        }
    }

    #[test]
    fn rates_are_near_their_settings() {
        let net = NetConfig { loss: 100_000, duplicate: 200_000, ..NetConfig::default() };
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (mut lost, mut dup) = (0, 0);
        let n = 100_000;
        for _ in 0..n {
            match net.message_delays(&mut rng).len() {
                0 => lost += 1,
                2 => dup += 1,
                _ => {}
            }
        }
        // 10% lost; 20% of the 90% delivered are doubled (18%). Binomial σ ≈ 0.1%, bounds at ±1%.
        assert!((9_000..11_000).contains(&lost), "{lost}");
        assert!((17_000..19_000).contains(&dup), "{dup}");
    }

    #[test]
    fn reordering_holds_some_back_beyond_the_latency() {
        let net = NetConfig {
            latency: Latency::Fixed(50),
            reorder: 500_000,
            reorder_ms: 1_000,
            ..NetConfig::default()
        };
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let delays: Vec<Millis> = (0..1_000).map(|_| net.message_delays(&mut rng)[0]).collect();
        let held = delays.iter().filter(|&&d| d > 50).count();
        assert!((400..600).contains(&held), "{held}");
        assert!(delays.iter().all(|&d| (50..=1_050).contains(&d)));
    }

    #[test]
    fn one_seed_one_sequence_of_fates() {
        let net = NetConfig::rough();
        let run = |seed| {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            (0..500).map(|_| net.message_delays(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }
}
