// Decoders for the GP-encoded values the explorer shows: a block (header and the five extrinsics),
// a work report, the activity statistics π and a service account's fixed fields (GP 0.7.2
// Appendix C; the field layout follows crates/types and crates/state, which the vectors check).
// Field names are the vectors' (and the Rust types'), so tests compare decoded values with the
// vectors' JSON twins as they are.

import { Reader, decodeAll, type Decoded } from './codec';
import { votesPerVerdict, type Spec } from './spec';

export type Bytes = Uint8Array;

const hash = (r: Reader): Bytes => r.fixed(32, 'hash');
const sigEd = (r: Reader): Bytes => r.fixed(64, 'Ed25519 signature');
const sigVrf = (r: Reader): Bytes => r.fixed(96, 'Bandersnatch VRF signature');
const sigRing = (r: Reader): Bytes => r.fixed(784, 'Bandersnatch ring VRF signature');

export interface EpochMark {
  entropy: Bytes;
  tickets_entropy: Bytes;
  validators: { bandersnatch: Bytes; ed25519: Bytes }[];
}
export interface TicketBody {
  id: Bytes;
  attempt: number;
}
export interface Header {
  parent: Bytes;
  parent_state_root: Bytes;
  extrinsic_hash: Bytes;
  slot: number;
  epoch_mark: EpochMark | null;
  tickets_mark: TicketBody[] | null;
  author_index: number;
  entropy_source: Bytes;
  offenders_mark: Bytes[];
  seal: Bytes;
}

export function header(r: Reader, spec: Spec): Header {
  return {
    parent: hash(r),
    parent_state_root: hash(r),
    extrinsic_hash: hash(r),
    slot: r.u32(),
    epoch_mark: r.option(
      (r) => ({
        entropy: hash(r),
        tickets_entropy: hash(r),
        validators: r.seqN(spec.validators, (r) => ({ bandersnatch: hash(r), ed25519: hash(r) }), 'epoch mark validators', 64),
      }),
      'epoch mark',
    ),
    tickets_mark: r.option((r) => r.seqN(spec.epochLength, (r) => ({ id: hash(r), attempt: r.u8() }), 'tickets mark', 33), 'tickets mark'),
    author_index: r.u16(),
    entropy_source: sigVrf(r),
    offenders_mark: r.seq(hash, 'offenders mark', 32),
    seal: sigVrf(r),
  };
}

export interface RefineContext {
  anchor: Bytes;
  state_root: Bytes;
  beefy_root: Bytes;
  lookup_anchor: Bytes;
  lookup_anchor_slot: number;
  prerequisites: Bytes[];
}
export function refineContext(r: Reader): RefineContext {
  return {
    anchor: hash(r),
    state_root: hash(r),
    beefy_root: hash(r),
    lookup_anchor: hash(r),
    lookup_anchor_slot: r.u32(),
    prerequisites: r.seq(hash, 'prerequisites', 32),
  };
}

/** A work item's outcome (GP eq. C.33): the output blob, or the name of the error. */
export type WorkExecResult =
  | { ok: Bytes }
  | { out_of_gas: null }
  | { panic: null }
  | { bad_exports: null }
  | { oversize: null }
  | { bad_code: null }
  | { code_oversize: null };

const EXEC_ERRORS = ['out_of_gas', 'panic', 'bad_exports', 'oversize', 'bad_code', 'code_oversize'] as const;

export function execResult(r: Reader): WorkExecResult {
  const tag = r.u8();
  if (tag === 0) return { ok: r.blob('work output') };
  const name = EXEC_ERRORS[tag - 1];
  if (name === undefined) return r.fail(`work result: unknown outcome ${tag}`);
  return { [name]: null } as WorkExecResult;
}

export interface RefineLoad {
  gas_used: bigint;
  imports: number;
  extrinsic_count: number;
  extrinsic_size: number;
  exports: number;
}
export interface WorkResult {
  service_id: number;
  code_hash: Bytes;
  payload_hash: Bytes;
  accumulate_gas: bigint;
  result: WorkExecResult;
  refine_load: RefineLoad;
}
export function workResult(r: Reader): WorkResult {
  return {
    service_id: r.u32(),
    code_hash: hash(r),
    payload_hash: hash(r),
    accumulate_gas: r.u64(),
    result: execResult(r),
    refine_load: {
      gas_used: r.natural(),
      imports: r.naturalBelow(2 ** 16, 'imports'),
      extrinsic_count: r.naturalBelow(2 ** 16, 'extrinsic count'),
      extrinsic_size: r.naturalBelow(2 ** 32, 'extrinsic size'),
      exports: r.naturalBelow(2 ** 16, 'exports'),
    },
  };
}

export interface WorkReport {
  package_spec: { hash: Bytes; length: number; erasure_root: Bytes; exports_root: Bytes; exports_count: number };
  context: RefineContext;
  core_index: number;
  authorizer_hash: Bytes;
  auth_gas_used: bigint;
  auth_output: Bytes;
  segment_root_lookup: { work_package_hash: Bytes; segment_tree_root: Bytes }[];
  results: WorkResult[];
}
export function workReport(r: Reader): WorkReport {
  return {
    package_spec: { hash: hash(r), length: r.u32(), erasure_root: hash(r), exports_root: hash(r), exports_count: r.u16() },
    context: refineContext(r),
    core_index: r.naturalBelow(2 ** 16, 'core index'),
    authorizer_hash: hash(r),
    auth_gas_used: r.natural(),
    auth_output: r.blob('authorizer output'),
    segment_root_lookup: r.seq((r) => ({ work_package_hash: hash(r), segment_tree_root: hash(r) }), 'segment-root lookup', 64),
    results: r.seq(workResult, 'work results', 80),
  };
}

export interface TicketEnvelope {
  attempt: number;
  signature: Bytes;
}
export interface Preimage {
  requester: number;
  blob: Bytes;
}
export interface Guarantee {
  report: WorkReport;
  slot: number;
  signatures: { validator_index: number; signature: Bytes }[];
}
export interface Assurance {
  anchor: Bytes;
  bitfield: Bytes;
  validator_index: number;
  signature: Bytes;
}
export interface Disputes {
  verdicts: { target: Bytes; age: number; votes: { vote: boolean; index: number; signature: Bytes }[] }[];
  culprits: { target: Bytes; key: Bytes; signature: Bytes }[];
  faults: { target: Bytes; vote: boolean; key: Bytes; signature: Bytes }[];
}
export interface Extrinsic {
  tickets: TicketEnvelope[];
  preimages: Preimage[];
  guarantees: Guarantee[];
  assurances: Assurance[];
  disputes: Disputes;
}

/** `E_A`: the assurances extrinsic, bitfields of ⌈C/8⌉ octets. */
export function assurances(r: Reader, spec: Spec): Assurance[] {
  const bitfieldBytes = Math.ceil(spec.cores / 8);
  return r.seq(
    (r) => ({ anchor: hash(r), bitfield: r.fixed(bitfieldBytes, 'assurance bitfield'), validator_index: r.u16(), signature: sigEd(r) }),
    'assurances',
    32 + bitfieldBytes + 66,
  );
}

export function extrinsic(r: Reader, spec: Spec): Extrinsic {
  const votes = votesPerVerdict(spec);
  return {
    tickets: r.seq((r) => ({ attempt: r.u8(), signature: sigRing(r) }), 'tickets', 785),
    preimages: r.seq((r) => ({ requester: r.u32(), blob: r.blob('preimage') }), 'preimages', 5),
    guarantees: r.seq(
      (r) => ({
        report: workReport(r),
        slot: r.u32(),
        signatures: r.seq((r) => ({ validator_index: r.u16(), signature: sigEd(r) }), 'guarantee signatures', 66),
      }),
      'guarantees',
      277,
    ),
    assurances: assurances(r, spec),
    disputes: {
      verdicts: r.seq(
        (r) => ({
          target: hash(r),
          age: r.u32(),
          votes: r.seqN(votes, (r) => ({ vote: r.bool(), index: r.u16(), signature: sigEd(r) }), 'verdict votes', 67),
        }),
        'verdicts',
        36 + votes * 67,
      ),
      culprits: r.seq((r) => ({ target: hash(r), key: hash(r), signature: sigEd(r) }), 'culprits', 128),
      faults: r.seq((r) => ({ target: hash(r), vote: r.bool(), key: hash(r), signature: sigEd(r) }), 'faults', 129),
    },
  };
}

export interface Block {
  header: Header;
  extrinsic: Extrinsic;
}
export function block(r: Reader, spec: Spec): Block {
  return { header: header(r, spec), extrinsic: extrinsic(r, spec) };
}

export const decodeBlock = (b: Bytes, spec: Spec): Decoded<Block> => decodeAll(b, (r) => block(r, spec), 'block');
export const decodeHeader = (b: Bytes, spec: Spec): Decoded<Header> => decodeAll(b, (r) => header(r, spec), 'header');
export const decodeWorkReport = (b: Bytes): Decoded<WorkReport> => decodeAll(b, workReport, 'work report');

// ---- π, the activity statistics (GP 0.7.2 §13; row C(13) of T(σ)) ----

export interface ValidatorRecord {
  blocks: number;
  tickets: number;
  pre_images: number;
  pre_images_size: number;
  guarantees: number;
  assurances: number;
}
export interface CoreRecord {
  da_load: number;
  popularity: number;
  imports: number;
  extrinsic_count: number;
  extrinsic_size: number;
  exports: number;
  bundle_size: number;
  gas_used: bigint;
}
export interface ServiceRecord {
  provided_count: number;
  provided_size: number;
  refinement_count: number;
  refinement_gas_used: bigint;
  imports: number;
  extrinsic_count: number;
  extrinsic_size: number;
  exports: number;
  accumulate_count: number;
  accumulate_gas_used: bigint;
}
export interface Statistics {
  vals_curr: ValidatorRecord[];
  vals_last: ValidatorRecord[];
  cores: CoreRecord[];
  services: { id: number; record: ServiceRecord }[];
}

const validatorRecord = (r: Reader): ValidatorRecord => ({
  blocks: r.u32(),
  tickets: r.u32(),
  pre_images: r.u32(),
  pre_images_size: r.u32(),
  guarantees: r.u32(),
  assurances: r.u32(),
});
const n16 = (r: Reader, what: string) => r.naturalBelow(2 ** 16, what);
const n32 = (r: Reader, what: string) => r.naturalBelow(2 ** 32, what);
const coreRecord = (r: Reader): CoreRecord => ({
  da_load: n32(r, 'da_load'),
  popularity: n16(r, 'popularity'),
  imports: n16(r, 'imports'),
  extrinsic_count: n16(r, 'extrinsic_count'),
  extrinsic_size: n32(r, 'extrinsic_size'),
  exports: n16(r, 'exports'),
  bundle_size: n32(r, 'bundle_size'),
  gas_used: r.natural(),
});
const serviceRecord = (r: Reader): ServiceRecord => ({
  provided_count: n16(r, 'provided_count'),
  provided_size: n32(r, 'provided_size'),
  refinement_count: n32(r, 'refinement_count'),
  refinement_gas_used: r.natural(),
  imports: n32(r, 'imports'),
  extrinsic_count: n32(r, 'extrinsic_count'),
  extrinsic_size: n32(r, 'extrinsic_size'),
  exports: n32(r, 'exports'),
  accumulate_count: n32(r, 'accumulate_count'),
  accumulate_gas_used: r.natural(),
});

export function statistics(r: Reader, spec: Spec): Statistics {
  return {
    vals_curr: r.seqN(spec.validators, validatorRecord, 'current validator statistics', 24),
    vals_last: r.seqN(spec.validators, validatorRecord, 'last epoch validator statistics', 24),
    cores: r.seqN(spec.cores, coreRecord, 'core statistics', 8),
    services: r.seq((r) => ({ id: r.u32(), record: serviceRecord(r) }), 'service statistics', 14),
  };
}
export const decodeStatistics = (b: Bytes, spec: Spec): Decoded<Statistics> => decodeAll(b, (r) => statistics(r, spec), 'statistics');

// ---- A service account's fixed fields (row C(255, s) of T(σ), GP 0.7.2 eq. D.2) ----

export interface ServiceInfo {
  version: number;
  code_hash: Bytes;
  balance: bigint;
  min_item_gas: bigint;
  min_memo_gas: bigint;
  bytes: bigint;
  deposit_offset: bigint;
  items: number;
  creation_slot: number;
  last_accumulation_slot: number;
  parent_service: number;
}
export function serviceInfo(r: Reader): ServiceInfo {
  return {
    version: r.u8(),
    code_hash: hash(r),
    balance: r.u64(),
    min_item_gas: r.u64(),
    min_memo_gas: r.u64(),
    bytes: r.u64(),
    deposit_offset: r.u64(),
    items: r.u32(),
    creation_slot: r.u32(),
    last_accumulation_slot: r.u32(),
    parent_service: r.u32(),
  };
}
export const decodeServiceInfo = (b: Bytes): Decoded<ServiceInfo> => decodeAll(b, serviceInfo, 'service account info');

// ---- Validator keys (GP 0.7.2 §6.3: k_b 32 ++ k_e 32 ++ k_l 144 ++ k_m 128) ----

export interface ValidatorKey {
  bandersnatch: Bytes;
  ed25519: Bytes;
  bls: Bytes;
  metadata: Bytes;
}
export const VALIDATOR_KEY_BYTES = 336;
export function validatorKey(r: Reader): ValidatorKey {
  return { bandersnatch: r.fixed(32, 'bandersnatch key'), ed25519: r.fixed(32, 'ed25519 key'), bls: r.fixed(144, 'BLS key'), metadata: r.fixed(128, 'metadata') };
}
/** Orrery's `validators` answer: `E(κ) ++ E(γ_P)`, V keys each, no length prefixes. */
export const decodeValidatorSets = (b: Bytes, spec: Spec): Decoded<{ current: ValidatorKey[]; next: ValidatorKey[] }> =>
  decodeAll(
    b,
    (r) => ({
      current: r.seqN(spec.validators, validatorKey, 'current validators (κ)', VALIDATOR_KEY_BYTES),
      next: r.seqN(spec.validators, validatorKey, 'next validators (γ_P)', VALIDATOR_KEY_BYTES),
    }),
    'validators',
  );

// ---- ρ, the reports pending availability (GP 0.7.2 §11.1; row C(10) of T(σ)) ----

export interface PendingReport {
  report: WorkReport;
  /** The slot it was reported in (the vectors call it `timeout`). */
  timeout: number;
}
/** `ρ`: C entries, each `0` or `1 ++ WorkReport ++ u32`. */
export function pendingReports(r: Reader, spec: Spec): (PendingReport | null)[] {
  // An entry is at least its option tag.
  return r.seqN(spec.cores, (r) => r.option((r) => ({ report: workReport(r), timeout: r.u32() }), 'pending report'), 'pending reports (ρ)', 1);
}
export const decodePendingReports = (b: Bytes, spec: Spec): Decoded<(PendingReport | null)[]> => decodeAll(b, (r) => pendingReports(r, spec), 'pending reports');
