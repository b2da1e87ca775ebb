/**
 * A charger's own hold on its connector for one reservation. Real firmware does not wait for the
 * central system to cancel an expired reservation: Central may be unreachable, and a connector
 * held forever is exactly the failure reservations must not cause. So the charger times the hold
 * itself, against its own clock, which may be skewed from Central's.
 */
export class ReservationHold {
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param expiresAt Central's `expiresAt` (epoch ms), compared with the charger's clock.
   * @param now The charger's clock.
   * @param onExpire Called once if the hold is still in place when the charger's clock passes expiry.
   */
  constructor(
    readonly reservationId: string,
    readonly expiresAt: number,
    now: () => number,
    onExpire: (hold: ReservationHold) => void,
  ) {
    // setTimeout runs on real time; the skew is a constant offset, so the remaining time by
    // the charger's clock is also the remaining real time.
    const remaining = Math.max(0, expiresAt - now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      onExpire(this);
    }, remaining);
  }

  get active(): boolean {
    return this.timer !== undefined;
  }

  /** The hold ended another way (start, cancel, fault): its expiry must not fire. */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
