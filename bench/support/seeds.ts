/**
 * The seeds' figures our benchmarks are set beside, in one place: the thesis's table 5.1 (the DR
 * contract on a 4-peer Fabric network, BatchTimeout 2 s, MaxMessageCount 10) and the JRC paper
 * (Lucas et al., Energies 2021, 14, 1881: DR registry on Hyperledger Fabric with 3, 10 and 28 nodes,
 * offered 1–512 requests/s). Values as printed there; the JRC points are read from the paper's text
 * (its figure 8 has no table).
 */

/** Thesis table 5.1: average execution time of the contract's functions on Fabric, in seconds. */
export const THESIS = {
  recordEnergyS: 10.2, // per load profile of 96 values
  evaluateBaselineS: 12, // per customer, 35 days
  notifyDReventS: 2.3, // 2 customers
  getDRTokenS: 2.3, // 2 customers
  queryS: 0.065,
  /** "the maximum number of transactions per second is 25" with the table's batch parameters. */
  maxTps: 25,
} as const;

export interface SeedLatencyPoint {
  readonly offeredPerS: number;
  readonly latencyS: number;
  /** true when the paper gives only a bound ("below 1 s", "does not exceed 2 s"). */
  readonly upperBound: boolean;
}

/** The JRC paper's end-to-end latency against requests per second, as its text states them. */
export const JRC = {
  threeNodes: [
    { offeredPerS: 32, latencyS: 1, upperBound: true }, // "below 32 requests/s … less than 1 s"
    { offeredPerS: 51, latencyS: 2, upperBound: true }, // "up to 51 TPS … does not exceed 2 s"
    { offeredPerS: 54, latencyS: 10, upperBound: false }, // "in 54 TPS the end to end delay reaches up to 10 s"
  ],
  twentyEightNodes: [
    { offeredPerS: 32, latencyS: 2, upperBound: false }, // "under 32 TPS the end to end delay approximates 2 s"
    { offeredPerS: 64, latencyS: 12, upperBound: false }, // "approximately 12 s, with 28 nodes and 64 requests per second"
  ],
  /** More than 20 % of transactions failed above these rates (28, 10 and 3 nodes). */
  failuresAbovePerS: { nodes28: 48, nodes10: 52, nodes3: 54 },
  /** Throughput the paper's 3-node network still served with < 20 % failures. */
  capacityPerS: 54,
} as const satisfies Record<string, unknown>;

/** A real Fabric 2.5.12 network (test-network, 2 orgs) measured on this project's machine. */
export const FABRIC_HERE = { tpsLow: 160, tpsHigh: 220, medianMsLow: 112, medianMsHigh: 222 } as const;
