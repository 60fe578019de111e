// The WebRTC softphone: one RTCPeerConnection per answered call. The page makes a complete
// (non-trickle) audio offer, the server answers it (docs/console-protocol.md, `answer`/`answered`).
// No STUN/TURN servers: the PBX is reachable directly, host candidates are enough.

// ?raw=1 turns off echo cancellation, noise suppression and gain control, so a file fed as a fake
// microphone (tests) reaches the far end unaltered.
const RAW = new URLSearchParams(location.search).get('raw') === '1';
const GATHER_MAX_MS = 3000;
// G.711 first: the PBX bridges it to the trunk without transcoding; telephone-event for DTMF.
const PREFERRED = ['audio/pcmu', 'audio/pcma', 'audio/telephone-event'];

let pcsCreated = 0;
let pcsClosed = 0;

class Aborted extends Error {
  constructor() { super('aborted'); this.name = 'AbortError'; }
}

export class Phone {
  // audioEl: the <audio autoplay> element that plays the caller.
  // onConnectionState(state, callId): the PeerConnection's connectionState changed.
  constructor(audioEl, { onConnectionState } = {}) {
    this.audioEl = audioEl;
    this.onConnectionState = onConnectionState || (() => {});
    this.pc = null;
    this.stream = null;
    this.sender = null;
    this.callId = null;
    this.muted = false;
    this.tones = [];
    this.gen = 0; // bumped by close(); an answer() in progress notices and gives up
  }

  // hasMedia(call): this page holds the audio of that call.
  hasMedia(callId) { return !!this.pc && this.callId === callId; }

  // answer prepares the PeerConnection for a call and returns the offer SDP to send in `answer`.
  async answer(callId) {
    this.close();
    const gen = this.gen;
    const check = () => { if (gen !== this.gen) throw new Aborted(); };
    const processing = !RAW;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing },
    });
    if (gen !== this.gen) { stream.getTracks().forEach((tr) => tr.stop()); throw new Aborted(); }
    this.stream = stream;
    this.callId = callId;
    this.muted = false;
    this.tones = [];

    const pc = new RTCPeerConnection();
    pcsCreated++;
    this.pc = pc;
    pc.ontrack = (ev) => {
      this.audioEl.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      this.audioEl.play().catch(() => { /* autoplay policy: the Answer click usually allows it */ });
    };
    pc.onconnectionstatechange = () => {
      if (this.pc === pc) this.onConnectionState(pc.connectionState, callId);
    };

    const track = stream.getAudioTracks()[0];
    const transceiver = pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    this.sender = transceiver.sender;
    preferG711(transceiver);

    await pc.setLocalDescription(await pc.createOffer());
    check();
    await waitForGathering(pc, GATHER_MAX_MS);
    check();
    return pc.localDescription.sdp;
  }

  // accept sets the server's answer for the call being answered.
  async accept(callId, sdp) {
    if (!this.hasMedia(callId)) return false;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    return true;
  }

  // close ends the PeerConnection (if any) and releases the microphone. Safe to call repeatedly.
  close() {
    this.gen++;
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
      pcsClosed++;
    }
    if (this.stream) {
      this.stream.getTracks().forEach((tr) => tr.stop());
      this.stream = null;
    }
    this.sender = null;
    this.callId = null;
    this.muted = false;
    if (this.audioEl) this.audioEl.srcObject = null;
  }

  // setMuted silences the microphone in the page (the server is not told).
  setMuted(muted) {
    this.muted = !!muted;
    if (this.stream) this.stream.getAudioTracks().forEach((tr) => { tr.enabled = !this.muted; });
    return this.muted;
  }

  // sendDTMF sends one key as RFC 4733 telephone-events. Keys pressed while a tone plays are
  // queued behind it (insertDTMF replaces the buffer, so the rest of the buffer is kept).
  sendDTMF(digit) {
    const dtmf = this.sender && this.sender.dtmf;
    if (!dtmf || !dtmf.canInsertDTMF) return false;
    if (!dtmf.ontonechange) {
      dtmf.ontonechange = (ev) => { if (ev.tone) this.tones.push(ev.tone); };
    }
    dtmf.insertDTMF(dtmf.toneBuffer + digit, 100, 70);
    return true;
  }

  // stats summarises the current PeerConnection's RTP counters (zeros when there is none).
  async stats() {
    const out = {
      inbound: { packetsReceived: 0, bytesReceived: 0 },
      outbound: { packetsSent: 0, bytesSent: 0 },
      connectionState: null,
      dtmfTones: [...this.tones],
    };
    const pc = this.pc;
    if (!pc) return out;
    out.connectionState = pc.connectionState;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inbound.packetsReceived += s.packetsReceived || 0;
        out.inbound.bytesReceived += s.bytesReceived || 0;
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.outbound.packetsSent += s.packetsSent || 0;
        out.outbound.bytesSent += s.bytesSent || 0;
      }
    });
    return out;
  }
}

// pcCount: PeerConnections this page has created and not yet closed.
export function pcCount() { return pcsCreated - pcsClosed; }

function preferG711(transceiver) {
  if (typeof transceiver.setCodecPreferences !== 'function' || !window.RTCRtpReceiver?.getCapabilities) return;
  const caps = RTCRtpReceiver.getCapabilities('audio');
  if (!caps) return;
  const codecs = caps.codecs
    .filter((c) => PREFERRED.includes(c.mimeType.toLowerCase()) && c.clockRate === 8000)
    .sort((a, b) => PREFERRED.indexOf(a.mimeType.toLowerCase()) - PREFERRED.indexOf(b.mimeType.toLowerCase()));
  if (!codecs.some((c) => c.mimeType.toLowerCase() !== 'audio/telephone-event')) return;
  try {
    transceiver.setCodecPreferences(codecs);
  } catch (e) {
    console.warn('setCodecPreferences:', e); // keep the browser's default list
  }
}

// waitForGathering resolves when ICE gathering completes, or after maxMs with what we have.
function waitForGathering(pc, maxMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = () => { if (pc.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, maxMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}
