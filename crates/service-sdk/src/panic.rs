//! The panic handler for guests: logs the message (JIP-1 `log`, level error, target `panic`) and
//! traps, which ends the invocation with the paper's panic `☇`.

use core::fmt::Write;

/// The longest panic message logged; longer ones are cut.
pub const MESSAGE_LIMIT: usize = 256;

/// A fixed buffer that keeps what fits.
#[derive(Debug)]
pub struct Truncating {
    buf: [u8; MESSAGE_LIMIT],
    len: usize,
}

impl Default for Truncating {
    fn default() -> Self {
        Self { buf: [0; MESSAGE_LIMIT], len: 0 }
    }
}

impl Truncating {
    /// What was written, cut at a character boundary.
    pub fn as_str(&self) -> &str {
        match core::str::from_utf8(&self.buf[..self.len]) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&self.buf[..e.valid_up_to()]).unwrap_or(""),
        }
    }
}

impl Write for Truncating {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(MESSAGE_LIMIT - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The message a panic logs.
pub fn message(info: &core::panic::PanicInfo<'_>) -> Truncating {
    let mut out = Truncating::default();
    let _ = write!(out, "{}", info.message());
    if let Some(location) = info.location() {
        let _ = write!(out, " at {}:{}", location.file(), location.line());
    }
    out
}

#[cfg(all(target_arch = "riscv64", target_feature = "e"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let text = message(info);
    crate::general::log(crate::general::Level::Error, Some("panic"), text.as_str());
    // SAFETY: `unimp` is an illegal instruction: the PVM traps and the invocation panics.
    unsafe { core::arch::asm!("unimp", options(noreturn)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_character() {
        let mut t = Truncating::default();
        let long = "é".repeat(MESSAGE_LIMIT);
        let _ = t.write_str(&long);
        assert_eq!(t.as_str().len(), MESSAGE_LIMIT);
        let mut t = Truncating::default();
        let _ = t.write_str("x");
        let _ = t.write_str(&long);
        // 1 + 127 × 2 = 255 octets of whole characters; the last octet is half an "é".
        assert_eq!(t.as_str().len(), MESSAGE_LIMIT - 1);
    }
}
