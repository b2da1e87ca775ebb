/**
 * Diagnostic for bench/ocpp: what strict mode costs per MeterValues, measured in this process
 * with the validator the gateway's RPCServer uses (ocpp-rpc's OCA 1.6 schemas, ajv). Per call the
 * gateway validates the CALL's params (urn:MeterValues.req) and its own answer (urn:MeterValues.conf).
 * Multiplied by the measured call rate it gives the share of a core strict mode takes, without a
 * switch in the gateway to turn it off.
 */
import { createRequire } from "node:module";
import { meterValuesParams, type OcppBox } from "./ocpp-load.ts";

const require = createRequire(import.meta.url);

export function strictMicrosPerCall(seconds = 1.5): number {
  const validators = require("ocpp-rpc/lib/standard-validators.js") as { subprotocol: string; validate(id: string, v: unknown): void }[];
  const v = validators.find((x) => x.subprotocol === "ocpp1.6");
  if (!v) throw new Error("ocpp-rpc has no ocpp1.6 validator");
  const box = { txId: 1, seq: 0 } as OcppBox;
  const samples = Array.from({ length: 256 }, () => meterValuesParams(box));
  for (let i = 0; i < 5_000; i++) v.validate("urn:MeterValues.req", samples[i & 255]); // compile + JIT
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 1_000; i++, n++) {
      v.validate("urn:MeterValues.req", samples[n & 255]);
      v.validate("urn:MeterValues.conf", {});
    }
  }
  return ((performance.now() - started) * 1000) / n;
}
