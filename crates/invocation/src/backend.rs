//! Which PVM runs guest code: orrery-pvm's interpreter, the reference, or orrery-pvm-jit's
//! recompiler (GP 0.7.2 Appendix A either way; the recompiler is exact to the interpreter on every
//! vector, trace and generated program it has been compared on).
//!
//! Ψ_I, Ψ_R, Ψ_A and the inner machines of refinement all run on [`Backend::current`]: the
//! recompiler where it is built (x86-64 Linux), the interpreter elsewhere, unless the process chose
//! otherwise with [`Backend::set_current`] (the CLI's `--pvm`) or the environment variable
//! `ORRERY_PVM=interpreter|recompiler` (read once, on first use; a value that names neither, or the
//! recompiler where it is not built, is ignored: the CLI reports it as an error).
//!
//! Compiled code comes from [`orrery_pvm_jit::CodeCache::global`], by code hash, so a service's code
//! compiles once per process. If a program cannot be compiled or its sandbox cannot be reserved
//! (before any guest instruction or host call has run), it runs on the interpreter instead, which
//! gives the same result; [`fallbacks`] counts such runs.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use orrery_pvm::{invoke_program_detailed, ExitDetail, Guest, Host, InvocationResult, StandardProgram};
use orrery_types::Hash;

/// A PVM implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// orrery-pvm's interpreter: the reference, on every platform.
    Interpreter,
    /// orrery-pvm-jit's recompiler to x86-64: only on x86-64 Linux.
    Recompiler,
}

/// Why a backend cannot be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// Neither `interpreter` nor `recompiler`.
    #[error("unknown PVM backend {0:?}: expected `interpreter` or `recompiler`")]
    Unknown(String),
    /// The recompiler is not built for this platform.
    #[error("the PVM recompiler is built only for x86-64 Linux; use `interpreter`")]
    Unsupported,
}

/// The environment variable that chooses the backend when the process has not.
pub const ENV_VAR: &str = "ORRERY_PVM";

const UNSET: u8 = 0;
const INTERPRETER: u8 = 1;
const RECOMPILER: u8 = 2;

static CURRENT: AtomicU8 = AtomicU8::new(UNSET);
static FALLBACKS: AtomicU64 = AtomicU64::new(0);

impl Backend {
    /// Whether this backend is built for the platform.
    pub const fn is_supported(self) -> bool {
        match self {
            Backend::Interpreter => true,
            Backend::Recompiler => cfg!(all(target_arch = "x86_64", target_os = "linux")),
        }
    }

    /// The backend used where nothing chose one: the recompiler where it is built.
    pub const fn platform_default() -> Backend {
        if Backend::Recompiler.is_supported() {
            Backend::Recompiler
        } else {
            Backend::Interpreter
        }
    }

    /// The name the CLI and [`ENV_VAR`] use.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Interpreter => "interpreter",
            Backend::Recompiler => "recompiler",
        }
    }

    /// The process-wide backend the invocations use.
    pub fn current() -> Backend {
        match CURRENT.load(Ordering::Relaxed) {
            INTERPRETER => Backend::Interpreter,
            RECOMPILER => Backend::Recompiler,
            _ => {
                let chosen = std::env::var(ENV_VAR)
                    .ok()
                    .and_then(|v| Backend::choose(&v).ok())
                    .unwrap_or_else(Backend::platform_default);
                // A racing set_current wins over the environment.
                let _ = CURRENT.compare_exchange(UNSET, chosen.code(), Ordering::Relaxed, Ordering::Relaxed);
                Backend::current()
            }
        }
    }

    /// Chooses the process-wide backend (before or between invocations; runs under way finish on
    /// the one they started with).
    pub fn set_current(backend: Backend) -> Result<(), BackendError> {
        if !backend.is_supported() {
            return Err(BackendError::Unsupported);
        }
        CURRENT.store(backend.code(), Ordering::Relaxed);
        Ok(())
    }

    /// A backend by name, checked to be supported here.
    pub fn choose(name: &str) -> Result<Backend, BackendError> {
        let backend: Backend = name.parse()?;
        if backend.is_supported() {
            Ok(backend)
        } else {
            Err(BackendError::Unsupported)
        }
    }

    const fn code(self) -> u8 {
        match self {
            Backend::Interpreter => INTERPRETER,
            Backend::Recompiler => RECOMPILER,
        }
    }
}

impl FromStr for Backend {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "interpreter" => Ok(Backend::Interpreter),
            "recompiler" => Ok(Backend::Recompiler),
            other => Err(BackendError::Unknown(other.to_string())),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many runs asked of the recompiler went to the interpreter because their code could not be
/// compiled or their sandbox reserved.
pub fn fallbacks() -> u64 {
    FALLBACKS.load(Ordering::Relaxed)
}

/// Ψ_M (§A.8) of `program`, whose code hash is `hash`, on the current backend: the gas used, the
/// result and how the machine stopped, exactly as [`invoke_program_detailed`] gives them.
pub(crate) fn invoke<H: Host + ?Sized>(
    hash: &Hash,
    program: &StandardProgram,
    pc: u32,
    gas: u64,
    args: &[u8],
    host: &mut H,
) -> (u64, InvocationResult, Option<ExitDetail>) {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if Backend::current() == Backend::Recompiler {
        let compiled = orrery_pvm_jit::CodeCache::global().get_or_compile(hash, program.program());
        // Both failures happen before the guest runs or the host is called, so the interpreter
        // can still run it from the start.
        if let Ok(Ok(done)) =
            compiled.map(|c| orrery_pvm_jit::invoke_detailed(program, &c, pc, gas, args, host))
        {
            return done;
        }
        FALLBACKS.fetch_add(1, Ordering::Relaxed);
    }
    let _ = hash;
    invoke_program_detailed(program, pc, gas, args, host)
}

/// A machine on the current backend: `program` at `pc` with `gas`, zero registers, every page
/// inaccessible and per-block metering (as [`orrery_pvm::Machine::new`]). `cache_key`, when given,
/// names the program in the code cache (compiled code is kept for the next machine with that key);
/// without one it is compiled for this machine alone. Inner machines of refinement are made here.
pub fn new_machine(
    program: std::sync::Arc<orrery_pvm::Program>,
    pc: u32,
    gas: i64,
    cache_key: Option<&Hash>,
) -> Box<dyn Guest + Send> {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if Backend::current() == Backend::Recompiler {
        let compiled = match cache_key {
            Some(hash) => orrery_pvm_jit::CodeCache::global().get_or_compile(hash, &program),
            None => orrery_pvm_jit::compile(std::sync::Arc::clone(&program)).map(std::sync::Arc::new),
        };
        let instance =
            compiled.ok().and_then(|compiled| orrery_pvm_jit::Instance::new(compiled, pc, gas).ok());
        if let Some(instance) = instance {
            return Box::new(instance);
        }
        FALLBACKS.fetch_add(1, Ordering::Relaxed);
    }
    let _ = cache_key;
    Box::new(orrery_pvm::Machine::new(program, pc, gas))
}
