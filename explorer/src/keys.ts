// What the validators page derives from a validator's keys: its JAMNP-S peer name and the
// endpoint its metadata announces.

const PEER_NAME_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * `N(k) = "e" ++ B(E32⁻¹(k), 52)` (JAMNP-S, the certificate's alternative name): the Ed25519 key
 * read as a 256-bit little-endian integer, written in base 32 least significant digit first (not
 * RFC 4648's base32, which reads bytes big-end first). Null if the key is not 32 bytes.
 */
export function peerName(ed25519: Uint8Array): string | null {
  if (ed25519.length !== 32) return null;
  let name = 'e';
  for (let i = 0; i < 52; i++) {
    // Digit i is bits 5i..5i+5 of the integer; the last digit has one bit.
    const bit = 5 * i;
    const byte = bit >> 3;
    const pair = ed25519[byte]! | ((ed25519[byte + 1] ?? 0) << 8);
    name += PEER_NAME_ALPHABET[(pair >> (bit & 7)) & 31]!;
  }
  return name;
}

/** An IPv6 address in RFC 5952 text: lowercase, the longest run of 2+ zero groups as `::`, an IPv4-mapped address as `::ffff:a.b.c.d`. */
export function ipv6Text(a: Uint8Array): string {
  const mapped = a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
  if (mapped) return `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((a[i]! << 8) | a[i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/**
 * The endpoint in a validator's 128-byte metadata (GP 0.7.2 §6.3; JAMNP-S): the first 16 bytes an
 * IPv6 address, the next 2 a little-endian port, as `[ipv6]:port`. Null for the unspecified
 * address or port 0 (nowhere to dial) or metadata shorter than 18 bytes.
 */
export function endpointText(metadata: Uint8Array): string | null {
  if (metadata.length < 18) return null;
  const ip = metadata.subarray(0, 16);
  const port = metadata[16]! | (metadata[17]! << 8);
  if (port === 0 || ip.every((b) => b === 0)) return null;
  return `[${ipv6Text(ip)}]:${port}`;
}
