// A soft two-note chime for incoming calls, made with WebAudio (no audio files to ship).
// It only plays while the page has an AudioContext that the browser lets run, which is the case
// after the operator has clicked anything (e.g. the login button).
let ctx = null;

export function chime() {
  try {
    ctx = ctx || new AudioContext();
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    const now = ctx.currentTime;
    [[660, 0], [880, 0.2]].forEach(([freq, at]) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.12, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.2);
    });
  } catch {
    // no WebAudio: the visual card and the title still announce the call
  }
}
