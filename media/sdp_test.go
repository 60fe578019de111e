package media

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	pionsdp "github.com/pion/sdp/v3"
)

// crlf turns a readable multi-line string into SDP with CRLF line ends.
func crlf(s string) string {
	return strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n")
}

// Offers as real phones and tools send them (addresses changed).
var (
	offerBaresip = crlf(`
v=0
o=- 1823562930 3716402870 IN IP4 192.168.1.20
s=-
c=IN IP4 192.168.1.20
t=0 0
m=audio 10000 RTP/AVP 96 9 0 8 101
b=AS:64
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp-rsize
a=sendrecv
a=label:1
a=ssrc:1465315539 cname:e8e4fc3e-5c4a-4f2b-b5c1-7c1e4b0e6f1a
`)
	// Linphone with video enabled and telephone-event on 96.
	offerLinphone = crlf(`
v=0
o=alice 2209 3321 IN IP4 192.168.0.10
s=Talk
c=IN IP4 192.168.0.10
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 112 0 8 96 97
a=rtpmap:112 speex/16000
a=fmtp:112 vbr=on
a=rtpmap:96 telephone-event/8000
a=rtpmap:97 telephone-event/48000
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
m=video 9078 RTP/AVP 98 99
a=rtpmap:98 VP8/90000
a=rtpmap:99 H264/90000
a=fmtp:99 profile-level-id=42801F
a=rtcp-fb:* ccm fir
`)
	// sipp's built-in uac scenario, with its bare LF line ends.
	offerSipp = strings.TrimLeft(`
v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`, "\n")
	// What Chrome offers (e.g. a JsSIP softphone over WSS): DTLS-SRTP only.
	offerChrome = crlf(`
v=0
o=- 4611731400430051336 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS 4a8e7d3f
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Yd3x
a=ice-pwd:LWwUFiUgy1bnLkIiM8VXc0pT
a=ice-options:trickle
a=fingerprint:sha-256 3C:4A:B4:8B:70:50:A8:6E:1C:05:E4:B2:5E:4F:57:0F:63:1C:3D:08:6D:A2:A1:84:D2:60:30:B3:9C:2C:5F:64
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=sendrecv
a=msid:4a8e7d3f 9c1a2b3c
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:1001 cname:abcd
`)
	// A Snom-style hold re-INVITE: same stream, now sendonly.
	offerHold = crlf(`
v=0
o=root 1234 1235 IN IP4 10.0.0.5
s=call
c=IN IP4 10.0.0.5
t=0 0
m=audio 40002 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendonly
`)
	// RFC 2543 hold: null address, no direction attribute.
	offerNullHold = crlf(`
v=0
o=- 1 2 IN IP4 10.0.0.5
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 40002 RTP/AVP 0
`)
	// No trailing newline after the last line (diago#110).
	offerNoNewline = "v=0\r\no=- 1 1 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\nm=audio 5004 RTP/AVP 8 0\r\na=recvonly"
	offerIPv6      = crlf(`
v=0
o=- 7 7 IN IP6 2001:db8::1
s=-
c=IN IP6 2001:db8::1
t=0 0
m=audio 5006 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
a=ptime:30
`)
	// Session-level direction and c=, overridden per media where present,
	// a rejected first audio line, and a T.38 line.
	offerSessionLevel = crlf(`
v=0
o=- 9 9 IN IP4 198.51.100.1
s=-
c=IN IP4 198.51.100.1
t=0 0
a=inactive
m=audio 0 RTP/AVP 0
m=image 6002 udptl t38
m=audio 6004 RTP/AVP 18 8
c=IN IP4 198.51.100.2/127
a=rtpmap:18 G729/8000
`)
	offerSRTP = crlf(`
v=0
o=- 1 1 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 4000 RTP/SAVP 0
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
`)
)

func TestParseSDP(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want SessionDescription // exported fields only
		hold bool
	}{
		{"baresip", offerBaresip, SessionDescription{
			Addr:    netip.MustParseAddrPort("192.168.1.20:10000"),
			Codecs:  []Codec{{"OPUS", 96, 48000}, {"G722", 9, 8000}, {"PCMU", 0, 8000}, {"PCMA", 8, 8000}},
			EventPT: 101,
		}, false},
		{"linphone", offerLinphone, SessionDescription{
			Addr:    netip.MustParseAddrPort("192.168.0.10:7078"),
			Codecs:  []Codec{{"SPEEX", 112, 16000}, {"PCMU", 0, 8000}, {"PCMA", 8, 8000}},
			EventPT: 96,
		}, false},
		{"sipp", offerSipp, SessionDescription{
			Addr:   netip.MustParseAddrPort("127.0.0.1:6000"),
			Codecs: []Codec{{"PCMU", 0, 8000}},
		}, false},
		{"hold re-INVITE", offerHold, SessionDescription{
			Addr:      netip.MustParseAddrPort("10.0.0.5:40002"),
			Codecs:    []Codec{{"PCMA", 8, 8000}, {"PCMU", 0, 8000}},
			EventPT:   101,
			Direction: SendOnly,
			Ptime:     20,
		}, true},
		{"c=0.0.0.0", offerNullHold, SessionDescription{
			Addr:   netip.MustParseAddrPort("0.0.0.0:40002"),
			Codecs: []Codec{{"PCMU", 0, 8000}},
		}, true},
		{"no trailing newline", offerNoNewline, SessionDescription{
			Addr:      netip.MustParseAddrPort("10.0.0.7:5004"),
			Codecs:    []Codec{{"PCMA", 8, 8000}, {"PCMU", 0, 8000}},
			Direction: RecvOnly,
		}, false},
		{"IPv6", offerIPv6, SessionDescription{
			Addr:    netip.MustParseAddrPort("[2001:db8::1]:5006"),
			Codecs:  []Codec{{"PCMU", 0, 8000}},
			EventPT: 101,
			Ptime:   30,
		}, false},
		{"session level", offerSessionLevel, SessionDescription{
			Addr:      netip.MustParseAddrPort("198.51.100.2:6004"),
			Codecs:    []Codec{{"G729", 18, 8000}, {"PCMA", 8, 8000}},
			Direction: Inactive,
		}, true},
		{"LF only, blank lines, odd spacing", "v=0\n\nc=IN  IP4   10.1.1.1 \nm=audio 7000/2 RTP/AVP 0 97 abc 300\na=rtpmap:97 iLBC/8000\na=SENDONLY\n", SessionDescription{
			Addr:      netip.MustParseAddrPort("10.1.1.1:7000"),
			Codecs:    []Codec{{"PCMU", 0, 8000}, {"ILBC", 97, 8000}},
			Direction: SendOnly,
		}, true},
		{"dynamic payload type without rtpmap", "c=IN IP4 10.1.1.1\nm=audio 7000 RTP/AVPF 8 99\n", SessionDescription{
			Addr:   netip.MustParseAddrPort("10.1.1.1:7000"),
			Codecs: []Codec{{"PCMA", 8, 8000}, {"", 99, 0}},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSDP([]byte(tt.sdp))
			if err != nil {
				t.Fatalf("ParseSDP: %v", err)
			}
			if got.Addr != tt.want.Addr || !slices.Equal(got.Codecs, tt.want.Codecs) || got.EventPT != tt.want.EventPT ||
				got.Direction != tt.want.Direction || got.Ptime != tt.want.Ptime {
				t.Errorf("ParseSDP =\n %v %v event %d %v ptime %d\nwant\n %v %v event %d %v ptime %d",
					got.Addr, got.Codecs, got.EventPT, got.Direction, got.Ptime,
					tt.want.Addr, tt.want.Codecs, tt.want.EventPT, tt.want.Direction, tt.want.Ptime)
			}
			if got.Hold() != tt.hold {
				t.Errorf("Hold() = %v, want %v", got.Hold(), tt.hold)
			}
		})
	}
}

func TestParseSDPErrors(t *testing.T) {
	tests := []struct {
		name, sdp, msg string
	}{
		{"Chrome (DTLS-SRTP)", offerChrome, `profile "UDP/TLS/RTP/SAVPF" is not plain rtp`},
		{"SDES SRTP", offerSRTP, `profile "RTP/SAVP" is not plain rtp`},
		{"empty", "", "no m= line"},
		{"not SDP", "hello\r\nworld", "no m= line"},
		{"video only", "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\n", "no m=audio line with a non-zero port"},
		{"audio rejected", "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n", "no m=audio line with a non-zero port"},
		{"no c=", "v=0\r\nm=audio 5000 RTP/AVP 0\r\n", "no c= line"},
		{"host name in c=", "c=IN IP4 pbx.example.com\r\nm=audio 5000 RTP/AVP 0\r\n", "c=IN IP4 pbx.example.com"},
		{"only telephone-event", "c=IN IP4 10.0.0.1\r\nm=audio 5000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", "no audio format"},
		{"bad port", "c=IN IP4 10.0.0.1\r\nm=audio 70000 RTP/AVP 0\r\n", `port "70000"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSDP([]byte(tt.sdp))
			if !errors.Is(err, ErrNoAudio) {
				t.Fatalf("ParseSDP error = %v, want ErrNoAudio", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name    string
		sdp     string
		allowed []string
		want    Codec
		err     error
	}{
		{"offer order wins", offerBaresip, []string{"PCMA", "PCMU"}, Codec{"PCMU", 0, 8000}, nil},
		{"case-insensitive", offerHold, []string{"pcmu", "pcma"}, Codec{"PCMA", 8, 8000}, nil},
		{"only one allowed", offerHold, []string{"PCMU"}, Codec{"PCMU", 0, 8000}, nil},
		{"none in common", offerSessionLevel, []string{"PCMU"}, Codec{}, ErrNoCommonCodec},
		{"G.711 at a wrong clock is not G.711", "c=IN IP4 10.0.0.1\nm=audio 5000 RTP/AVP 96 0\na=rtpmap:96 PCMA/16000\n", []string{"PCMA", "PCMU"}, Codec{"PCMU", 0, 8000}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := ParseSDP([]byte(tt.sdp))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Negotiate(offer, tt.allowed)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("Negotiate(%v) = %v, %v; want %v, %v", tt.allowed, got, err, tt.want, tt.err)
			}
		})
	}
	if _, err := Negotiate(nil, []string{"PCMU"}); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("Negotiate(nil) error = %v, want ErrNoCommonCodec", err)
	}
}

func TestOfferSDP(t *testing.T) {
	got := string(OfferSDP(SDPParams{
		SessionID: 42, Version: 1,
		Addr:    netip.MustParseAddrPort("203.0.113.7:20000"),
		Codecs:  []Codec{{"PCMA", 8, 8000}, {"PCMU", 0, 8000}},
		EventPT: 101,
	}))
	want := crlf(`
v=0
o=- 42 1 IN IP4 203.0.113.7
s=Centralino
c=IN IP4 203.0.113.7
t=0 0
m=audio 20000 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`)
	if got != want {
		t.Errorf("OfferSDP =\n%s\nwant\n%s", got, want)
	}
	mustPionParse(t, got)

	v6 := string(OfferSDP(SDPParams{Addr: netip.MustParseAddrPort("[2001:db8::7]:20002"), Codecs: []Codec{{"PCMU", 0, 8000}}, Direction: Inactive, Ptime: 30}))
	for _, line := range []string{"o=- 0 0 IN IP6 2001:db8::7\r\n", "c=IN IP6 2001:db8::7\r\n", "m=audio 20002 RTP/AVP 0\r\n", "a=ptime:30\r\n", "a=inactive\r\n"} {
		if !strings.Contains(v6, line) {
			t.Errorf("IPv6 offer lacks %q:\n%s", line, v6)
		}
	}
	mustPionParse(t, v6)
}

func TestAnswerSDP(t *testing.T) {
	offer, err := ParseSDP([]byte(offerSessionLevel))
	if err != nil {
		t.Fatal(err)
	}
	got := string(AnswerSDP(offer, SDPParams{
		SessionID: 7, Version: 3,
		Addr:      netip.MustParseAddrPort("203.0.113.7:20000"),
		Codecs:    []Codec{{"PCMA", 8, 8000}},
		Direction: offer.Direction.Answer(),
	}))
	want := crlf(`
v=0
o=- 7 3 IN IP4 203.0.113.7
s=Centralino
c=IN IP4 203.0.113.7
t=0 0
m=audio 0 RTP/AVP 0
m=image 0 udptl t38
m=audio 20000 RTP/AVP 8
a=rtpmap:8 PCMA/8000
a=ptime:20
a=inactive
`)
	if got != want {
		t.Errorf("AnswerSDP =\n%s\nwant\n%s", got, want)
	}
	// Not checked with pion/sdp: it does not know the "image" media type
	// (RFC 6466), which T.38 offers use.

	// Linphone: audio answered with its own event payload type, video
	// rejected, hold answered recvonly.
	tests := []struct {
		name, sdp string
		want      []string
		mlines    int
	}{
		{"linphone", offerLinphone, []string{"m=audio 20000 RTP/AVP 0 96\r\n", "a=rtpmap:96 telephone-event/8000\r\n", "m=video 0 RTP/AVP 98 99\r\n", "a=sendrecv\r\n"}, 2},
		{"hold", offerHold, []string{"m=audio 20000 RTP/AVP 0 101\r\n", "a=recvonly\r\n"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := ParseSDP([]byte(tt.sdp))
			if err != nil {
				t.Fatal(err)
			}
			codec, err := Negotiate(offer, []string{"PCMU"})
			if err != nil {
				t.Fatal(err)
			}
			ans := string(AnswerSDP(offer, SDPParams{
				Addr:      netip.MustParseAddrPort("203.0.113.7:20000"),
				Codecs:    []Codec{codec},
				EventPT:   offer.EventPT,
				Direction: offer.Direction.Answer(),
			}))
			for _, line := range tt.want {
				if !strings.Contains(ans, line) {
					t.Errorf("answer lacks %q:\n%s", line, ans)
				}
			}
			if n := strings.Count(ans, "\r\nm="); n != tt.mlines {
				t.Errorf("answer has %d m= lines, want %d", n, tt.mlines)
			}
			mustPionParse(t, ans)
			back, err := ParseSDP([]byte(ans))
			if err != nil || !slices.Equal(back.Codecs, []Codec{codec}) || back.EventPT != offer.EventPT {
				t.Errorf("answer re-parsed to %+v, %v", back, err)
			}
		})
	}

	// No codec: every line rejected. No offer: our offer.
	rejected := string(AnswerSDP(offer, SDPParams{Addr: netip.MustParseAddrPort("203.0.113.7:20000")}))
	if strings.Contains(rejected, "m=audio 20000") || strings.Count(rejected, " 0 ") < 3 {
		t.Errorf("answer without codec does not reject everything:\n%s", rejected)
	}
	p := SDPParams{Addr: netip.MustParseAddrPort("203.0.113.7:20000"), Codecs: []Codec{{"PCMU", 0, 8000}}}
	if got, want := string(AnswerSDP(nil, p)), string(OfferSDP(p)); got != want {
		t.Errorf("AnswerSDP(nil) =\n%s\nwant the offer\n%s", got, want)
	}
}

// mustPionParse checks our output against pion's strict parser.
func mustPionParse(t *testing.T, sdp string) {
	t.Helper()
	var d pionsdp.SessionDescription
	if err := d.UnmarshalString(sdp); err != nil {
		t.Errorf("pion/sdp rejects our SDP: %v\n%s", err, sdp)
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		d              Direction
		name           string
		answer         Direction
		sends, receive bool
	}{
		{SendRecv, "sendrecv", SendRecv, true, true},
		{SendOnly, "sendonly", RecvOnly, true, false},
		{RecvOnly, "recvonly", SendOnly, false, true},
		{Inactive, "inactive", Inactive, false, false},
	}
	for _, tt := range tests {
		if tt.d.String() != tt.name || tt.d.Answer() != tt.answer || tt.d.Sends() != tt.sends || tt.d.Receives() != tt.receive {
			t.Errorf("%s: got %s answer %s sends %v receives %v", tt.name, tt.d, tt.d.Answer(), tt.d.Sends(), tt.d.Receives())
		}
	}
	if got := Direction(9).String(); got != "Direction(9)" {
		t.Errorf("Direction(9).String() = %q", got)
	}
}

func FuzzParseSDP(f *testing.F) {
	for _, s := range []string{offerBaresip, offerLinphone, offerSipp, offerChrome, offerHold, offerNullHold,
		offerNoNewline, offerIPv6, offerSessionLevel, offerSRTP, "c=IN IP6 fe80::1%eth0\nm=audio 1 RTP/AVP 0 101 102\na=rtpmap:101 telephone-event/16000\na=rtpmap:102 telephone-event/8000\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseSDP(b)
		if err != nil {
			return
		}
		p := SDPParams{Addr: d.Addr, Codecs: d.Codecs, EventPT: d.EventPT, Direction: d.Direction, Ptime: d.Ptime}
		again, err := ParseSDP(OfferSDP(p))
		if err != nil {
			t.Fatalf("our own offer does not parse: %v\n%s", err, OfferSDP(p))
		}
		if again.Addr != d.Addr || !slices.Equal(again.Codecs, d.Codecs) || again.EventPT != d.EventPT || again.Direction != d.Direction {
			t.Fatalf("round trip changed %v %v %d %v into %v %v %d %v",
				d.Addr, d.Codecs, d.EventPT, d.Direction, again.Addr, again.Codecs, again.EventPT, again.Direction)
		}

		// The answer must parse to the stream we answered with.
		p.Addr, p.Codecs = netip.MustParseAddrPort("192.0.2.1:4000"), d.Codecs[:1]
		ans, err := ParseSDP(AnswerSDP(d, p))
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, AnswerSDP(d, p))
		}
		if ans.Addr != p.Addr || !slices.Equal(ans.Codecs, p.Codecs) || ans.EventPT != p.EventPT {
			t.Fatalf("answer parsed to %v %v %d, want %v %v %d", ans.Addr, ans.Codecs, ans.EventPT, p.Addr, p.Codecs, p.EventPT)
		}
	})
}
