/**
 * aedes' parser (mqtt-packet) has no maximum packet size: it buffers a packet until its whole
 * declared length has arrived, and MQTT 3.1.1 lets a fixed header declare up to 268,435,455
 * bytes (§2.2.3). Unchecked, one connection could make the gateway hold 256 MiB, before it has
 * even authenticated. This tracker follows the packet boundaries in the byte stream and reports
 * a packet that declares more than the limit as soon as its fixed header is complete, so the
 * connection can be closed while only that header has been buffered.
 *
 * MQTT 3.1.1 has no way to refuse one packet (no negative PUBACK, no "packet too large" reason
 * code before MQTT 5), so closing the connection is the only answer (MQTT-4.8.0-1 allows it).
 */
export class PacketSizeTracker {
  /** Bytes of the current packet's body still to skip; 0 while reading a fixed header. */
  private remaining = 0;
  private headerBytes = 0;
  private length = 0;
  private multiplier = 1;
  private failed = false;

  constructor(private readonly maxPacketBytes: number) {}

  /**
   * Feeds the next chunk of the stream. Returns the declared size of the first packet over the
   * limit (or `Infinity` for a malformed length), or undefined while every packet is within it.
   */
  feed(chunk: Uint8Array): number | undefined {
    if (this.failed) return undefined;
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.headerBytes === 0) {
        // first byte: packet type and flags
        this.headerBytes = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      // Remaining Length, variable-length encoded: 7 bits a byte, at most 4 bytes (§2.2.3).
      this.headerBytes++;
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80) {
        if (this.headerBytes > 4) return this.fail(Infinity);
        continue;
      }
      const total = this.headerBytes + this.length;
      if (total > this.maxPacketBytes) return this.fail(total);
      this.remaining = this.length;
      this.headerBytes = 0;
    }
    return undefined;
  }

  private fail(size: number): number {
    this.failed = true;
    return size;
  }
}

interface TappableSocket {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  destroy(): unknown;
}

/**
 * Watches what aedes reads from the socket and destroys the socket when a packet declares more
 * than `maxPacketBytes` (after `onOversize`, which should also close the broker's client). A 'data' listener next to aedes' 'readable' listener does not change
 * the flow: with a 'readable' listener present the stream stays paused and 'data' fires for
 * exactly the chunks aedes pulls with read() (Node stream semantics, which Deno's node:stream
 * follows), so the check sees every byte the parser sees, at the same moment.
 */
export function guardPacketSize(socket: TappableSocket, maxPacketBytes: number, onOversize: (declaredBytes: number) => void): void {
  const tracker = new PacketSizeTracker(maxPacketBytes);
  socket.on("data", (chunk) => {
    const over = tracker.feed(chunk);
    if (over === undefined) return;
    onOversize(over);
    socket.destroy();
  });
}
