import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { verifySecret } from "../../platform/password-hash.ts";
import { credentialRecordSchema, type CredentialRecord } from "../../protocol/index.ts";

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The gateway's copy of chargers' salted hashes, fed from the credentials topic and kept on disk,
 * so chargers can still connect after a gateway restart while Kafka or Central is away.
 * A successful PBKDF2 check is remembered (as a SHA-256 of the secret, bound to the stored hash),
 * so a reconnect storm does not cost one slow hash per reconnect.
 */
export class CredentialCache {
  private readonly hashes = new Map<string, string>();
  private readonly verified = new Map<string, string>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string | undefined) {}

  static async open(file?: string): Promise<CredentialCache> {
    const cache = new CredentialCache(file);
    if (file) {
      try {
        const data = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
        for (const [cpId, hash] of Object.entries(data)) cache.hashes.set(cpId, hash);
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOENT") throw error;
      }
    }
    return cache;
  }

  /**
   * Applies one record from the credentials topic; a null hash revokes the charger. Returns the
   * record, or undefined for one that is not valid (it is skipped).
   */
  apply(raw: string): CredentialRecord | undefined {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return undefined;
    }
    const parsed = credentialRecordSchema.safeParse(json);
    if (!parsed.success) return undefined;
    const { cpId, hash } = parsed.data;
    if (hash === null) this.hashes.delete(cpId);
    else this.hashes.set(cpId, hash);
    this.verified.delete(cpId);
    this.scheduleSave();
    return parsed.data;
  }

  has(cpId: string): boolean {
    return this.hashes.has(cpId);
  }

  get size(): number {
    return this.hashes.size;
  }

  /**
   * The cheap half of `verify`: true only for the secret this gateway already verified against
   * the current hash. Lets a charger back in while its cpId is throttled for failed attempts,
   * without spending a slow hash on anyone else.
   */
  async isRemembered(cpId: string, secret: string): Promise<boolean> {
    const stored = this.hashes.get(cpId);
    if (!stored) return false;
    return this.verified.get(cpId) === `${stored}|${await sha256(secret)}`;
  }

  async verify(cpId: string, secret: string): Promise<boolean> {
    const stored = this.hashes.get(cpId);
    if (!stored) return false;
    const memo = `${stored}|${await sha256(secret)}`;
    if (this.verified.get(cpId) === memo) return true;
    const ok = await verifySecret(secret, stored);
    if (ok && this.hashes.get(cpId) === stored) this.verified.set(cpId, memo);
    return ok;
  }

  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.saving = this.saving.then(() => this.save());
    }
    await this.saving;
  }

  private scheduleSave(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saving = this.saving.then(() => this.save()).catch(() => {});
    }, 100);
  }

  /** Write-then-rename, so a crash leaves the old file or the new one, never half of one. */
  private async save(): Promise<void> {
    if (!this.file) return;
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.hashes)));
    await rename(tmp, this.file);
  }
}
