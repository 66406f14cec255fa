//! Message framing (JAMNP-S "Messages"): each message is its content size as a little-endian `u32`
//! followed by the content.
//!
//! The size comes from the peer, so it is checked against a cap before anything is read, and the content
//! is read in chunks into a buffer that grows with what actually arrives: a peer that claims 4 GiB and
//! sends nothing costs us nothing. Every message has a deadline, so a peer that trickles bytes
//! (slowloris) loses the stream instead of holding it.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How much of a message is read at a time, and the most a buffer is given before the bytes arrive.
const CHUNK: usize = 16 * 1024;

/// Why a message could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("message of {len} bytes exceeds this stream kind's cap of {cap} bytes")]
    TooLarge { len: u64, cap: u32 },
    #[error("stream ended inside a message ({got} of {expected} bytes)")]
    Truncated { got: usize, expected: usize },
    #[error("message not received within {0:?}")]
    TimedOut(Duration),
    #[error("stream error: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes one message: `len` as u32 LE, then `content`.
pub async fn write_message<W: AsyncWrite + Unpin>(out: &mut W, content: &[u8]) -> Result<(), FrameError> {
    let len = u32::try_from(content.len())
        .map_err(|_| FrameError::TooLarge { len: content.len() as u64, cap: u32::MAX })?;
    out.write_all(&len.to_le_bytes()).await?;
    out.write_all(content).await?;
    Ok(())
}

/// Reads one message of at most `cap` bytes, all of it within `timeout`. `Ok(None)` is a clean end of
/// stream before the message began.
pub async fn read_message<R: AsyncRead + Unpin>(
    input: &mut R,
    cap: u32,
    timeout: Duration,
) -> Result<Option<Vec<u8>>, FrameError> {
    tokio::time::timeout(timeout, read_after(input, cap, None))
        .await
        .map_err(|_| FrameError::TimedOut(timeout))?
}

/// Reads the next message on a persistent stream (UP): waits as long as needed for the message to
/// begin, then gives it `timeout` to arrive in full.
pub async fn read_next_message<R: AsyncRead + Unpin>(
    input: &mut R,
    cap: u32,
    timeout: Duration,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut first = [0u8; 1];
    if input.read(&mut first).await? == 0 {
        return Ok(None);
    }
    tokio::time::timeout(timeout, read_after(input, cap, Some(first[0])))
        .await
        .map_err(|_| FrameError::TimedOut(timeout))?
}

async fn read_after<R: AsyncRead + Unpin>(
    input: &mut R,
    cap: u32,
    first: Option<u8>,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut size = [0u8; 4];
    let mut filled = 0;
    if let Some(byte) = first {
        size[0] = byte;
        filled = 1;
    }
    while filled < 4 {
        match input.read(&mut size[filled..]).await? {
            0 if filled == 0 => return Ok(None),
            0 => return Err(FrameError::Truncated { got: filled, expected: 4 }),
            n => filled += n,
        }
    }
    let len = u32::from_le_bytes(size);
    if len > cap {
        return Err(FrameError::TooLarge { len: len.into(), cap });
    }
    let len = len as usize;
    let mut content = Vec::with_capacity(len.min(CHUNK));
    let mut chunk = [0u8; CHUNK];
    while content.len() < len {
        let want = (len - content.len()).min(CHUNK);
        match input.read(&mut chunk[..want]).await? {
            0 => return Err(FrameError::Truncated { got: content.len(), expected: len }),
            n => content.extend_from_slice(&chunk[..n]),
        }
    }
    Ok(Some(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn round_trip_and_clean_end() {
        let mut wire = Vec::new();
        write_message(&mut wire, b"hello").await.unwrap();
        write_message(&mut wire, b"").await.unwrap();
        assert_eq!(wire, [5, 0, 0, 0, b'h', b'e', b'l', b'l', b'o', 0, 0, 0, 0]);
        let mut input = wire.as_slice();
        assert_eq!(read_message(&mut input, 5, SECOND).await.unwrap().unwrap(), b"hello");
        assert_eq!(read_next_message(&mut input, 5, SECOND).await.unwrap().unwrap(), b"");
        assert!(read_message(&mut input, 5, SECOND).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn size_above_cap_is_refused_before_reading() {
        let mut input: &[u8] = &[0xff, 0xff, 0xff, 0xff, 1, 2, 3];
        let err = read_message(&mut input, 1024, SECOND).await.unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { len: 0xffff_ffff, cap: 1024 }));
        // Only the size was consumed.
        assert_eq!(input, [1, 2, 3]);
    }

    #[tokio::test]
    async fn truncated_size_and_content() {
        let mut input: &[u8] = &[3, 0];
        assert!(matches!(
            read_message(&mut input, 10, SECOND).await,
            Err(FrameError::Truncated { got: 2, expected: 4 })
        ));
        let mut input: &[u8] = &[3, 0, 0, 0, 9];
        assert!(matches!(
            read_message(&mut input, 10, SECOND).await,
            Err(FrameError::Truncated { got: 1, expected: 3 })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn trickled_message_times_out() {
        let (mut tx, mut rx) = tokio::io::duplex(64);
        tx.write_all(&[100, 0, 0, 0, 1]).await.unwrap();
        // The writer stays open and silent.
        let err = read_message(&mut rx, 1000, SECOND).await.unwrap_err();
        assert!(matches!(err, FrameError::TimedOut(_)));
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn persistent_stream_waits_for_the_first_byte_only() {
        let (mut tx, mut rx) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move { read_next_message(&mut rx, 100, SECOND).await });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        tx.write_all(&[2, 0, 0, 0, 7, 8]).await.unwrap();
        assert_eq!(reader.await.unwrap().unwrap().unwrap(), [7, 8]);
    }
}
