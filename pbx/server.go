// Package pbx is the switchboard: the SIP server (registrar, trunks,
// B2BUA calls), the admin HTTP API and metrics. It asks config for what is
// configured and drives media to move the audio.
package pbx

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx/sipauth"
	"github.com/centralino/centralino/pbx/store"
	"github.com/centralino/centralino/pbx/webauth"
)

// udpReadBuffer is the SIP UDP socket's receive buffer: about a second of
// messages at thousands of REGISTERs per second.
const udpReadBuffer = 8 << 20

// Options are the Server's collaborators; zero values get sensible defaults.
type Options struct {
	Logger  *slog.Logger
	Store   store.Store // required
	Now     func() time.Time
	Version string
	// Live, when set, is watched for configuration changes (tenant files,
	// the main file) while the server runs; Reload also uses it.
	Live *config.Live
}

// Server is one running Centralino node.
type Server struct {
	snap    atomic.Pointer[snapshot]
	live    *config.Live
	log     *slog.Logger
	store   store.Store
	now     func() time.Time
	version string

	ua     *sipgo.UserAgent
	sip    *sipgo.Server
	client *sipgo.Client
	// dialogUAs holds one DialogUA per transport: the Contact we put in
	// dialogs must name the transport the peer reaches us on.
	dialogUAs map[string]*sipgo.DialogUA

	listen     netip.AddrPort // SIP UDP+TCP
	tlsListen  netip.AddrPort
	publicHost string
	publicPort int
	rtpIP      netip.Addr

	ports    *media.PortAllocator
	watchdog *media.Watchdog
	sched    *media.Scheduler   // paces every prompt of every call
	poller   *media.Poller      // reads the callers the IVR serves
	prompts  *media.PromptCache // greeting files, decoded once
	tts      *tts               // `say:` texts, synthesised once
	ringback *media.Prompt      // what a caller we answered hears while phones ring

	// The operator console: logins, the operator pool and queue, and the
	// shared WebRTC endpoint (nil until Run opens it).
	web       *webauth.Manager
	desk      *desk
	rtc       *media.WebRTC
	holdMusic *media.Prompt

	auth      *sipauth.Server
	registrar *registrar
	trunks    *trunkManager
	calls     *callRegistry
	metrics   *metrics
	statuses  *statusBoard
	calendars *calendarBoard
	// calendarKick asks the calendar loop to read the calendars again
	// (after a reload changed who has one).
	calendarKick chan struct{}
	ttsKick      chan struct{}

	httpAddr atomic.Value // string: the HTTP listener's actual address
	wg       sync.WaitGroup
}

// New validates what the config implies for the server (addresses) and
// builds it; nothing is bound until Run.
func New(cfg *config.Config, opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("pbx: no store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		log:          opts.Logger,
		store:        opts.Store,
		now:          opts.Now,
		version:      opts.Version,
		live:         opts.Live,
		calls:        newCallRegistry(),
		statuses:     newStatusBoard(opts.Store),
		calendarKick: make(chan struct{}, 1),
		ttsKick:      make(chan struct{}, 1),
	}
	s.calendars = newCalendarBoard(s.log.With("component", "calendars"), s.now)
	if err := s.setConfig(cfg); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s)

	var err error
	if s.listen, err = netip.ParseAddrPort(cfg.SIP.Listen); err != nil {
		return nil, fmt.Errorf("sip.listen: %w", err)
	}
	if cfg.SIP.TLSListen != "" {
		if s.tlsListen, err = netip.ParseAddrPort(cfg.SIP.TLSListen); err != nil {
			return nil, fmt.Errorf("sip.tls_listen: %w", err)
		}
	}
	s.publicHost, s.publicPort = s.listen.Addr().String(), int(s.listen.Port())
	if pa := cfg.SIP.PublicAddress; pa != "" {
		host, port, err := net.SplitHostPort(pa)
		if err != nil {
			host, port = pa, ""
		}
		s.publicHost = strings.Trim(host, "[]")
		if port != "" {
			if s.publicPort, err = strconv.Atoi(port); err != nil {
				return nil, fmt.Errorf("sip.public_address: %w", err)
			}
		}
	}
	switch {
	case cfg.RTP.PublicAddress != "":
		if s.rtpIP, err = netip.ParseAddr(cfg.RTP.PublicAddress); err != nil {
			return nil, fmt.Errorf("rtp.public_address: %w", err)
		}
	default:
		if ip, err := netip.ParseAddr(s.publicHost); err == nil {
			s.rtpIP = ip
		} else {
			s.rtpIP = s.listen.Addr()
		}
	}
	if s.ports, err = media.NewPortAllocator(s.listen.Addr(), cfg.RTP.PortMin, cfg.RTP.PortMax); err != nil {
		return nil, fmt.Errorf("rtp.ports: %w", err)
	}
	s.watchdog = media.NewWatchdog(time.Second, s.now)
	s.sched = media.NewScheduler()
	s.sched.Log = s.log.With("component", "player")
	s.poller = media.NewPoller()
	s.prompts = media.NewPromptCache()
	s.tts = newTTS(cfg.Data, s.prompts)
	s.ringback = italianRingback()
	s.holdMusic = builtinHoldMusic()
	s.desk = newDesk(s)
	s.web = webauth.New(webauth.Options{
		Lookup: s.operatorAccount,
		TTL:    cfg.Console.SessionTTL, MaxFailures: cfg.Console.LoginFailures, LockFor: cfg.Console.Lockout,
		TrustedProxy: func(a netip.Addr) bool {
			for _, p := range s.config().HTTP.ProxyPrefixes {
				if p.Contains(a.Unmap()) {
					return true
				}
			}
			return false
		},
		Now: s.now,
		Log: s.log.With("component", "console"),
	})
	s.web.OnLogout(func(sess *webauth.Session) { s.desk.logout(sess.Username, sess.ID) })

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("nonce secret: %w", err)
	}
	s.auth = sipauth.NewServer(cfg.SIP.Realm, secret, cfg.SIP.NonceTTL, s.now)
	s.registrar = &registrar{srv: s, loc: newLocation(), log: s.log.With("component", "registrar")}
	s.trunks = newTrunkManager(s)

	sipLog := s.log.With("component", "sipgo")
	s.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(cfg.SIP.UserAgent),
		sipgo.WithUserAgentHostname(s.publicHost),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(sipLog),
			sip.WithTransactionLayerUnhandledResponseHandler(s.onUnhandledResponse),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	if s.sip, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(sipLog)); err != nil {
		return nil, fmt.Errorf("sip server: %w", err)
	}
	s.client, err = sipgo.NewClient(s.ua,
		sipgo.WithClientHostname(s.publicHost),
		sipgo.WithClientPort(s.publicPort),
		sipgo.WithClientLogger(sipLog),
	)
	if err != nil {
		return nil, fmt.Errorf("sip client: %w", err)
	}
	s.dialogUAs = map[string]*sipgo.DialogUA{}
	for _, tr := range []string{"UDP", "TCP", "TLS"} {
		s.dialogUAs[tr] = &sipgo.DialogUA{Client: s.client, ContactHDR: s.contact(tr), RewriteContact: true}
	}

	s.sip.OnRegister(s.registrar.onRegister)
	s.sip.OnInvite(s.onInvite)
	s.sip.OnAck(s.onAck)
	s.sip.OnBye(s.onBye)
	s.sip.OnCancel(s.onCancel)
	s.sip.OnOptions(s.onOptions)
	s.sip.OnInfo(s.onInDialog)
	s.sip.OnUpdate(s.onUpdate)
	s.sip.OnNoRoute(s.onNoRoute)
	return s, nil
}

// allowed is the Allow header value: what we actually handle.
func (s *Server) allowed() string {
	m := s.sip.RegisteredMethods()
	slices.Sort(m)
	return strings.Join(m, ", ")
}

// contact is our Contact for dialogs over transport tr.
func (s *Server) contact(tr string) sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: "centralino", Host: s.publicHost, Port: s.publicPort}
	switch tr {
	case "TCP":
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	case "TLS":
		u.Scheme = "sips"
		if s.tlsListen.IsValid() {
			u.Port = int(s.tlsListen.Port())
		}
	}
	return sip.ContactHeader{Address: u}
}

// Run serves SIP and HTTP until ctx is cancelled, then hangs up the calls
// in progress and returns.
func (s *Server) Run(ctx context.Context) error {
	cfg := s.config()
	if err := s.registrar.restore(s.now()); err != nil {
		return err
	}
	if err := s.statuses.load(); err != nil {
		return err
	}
	s.recoverVoicemails()
	s.metrics.registrations.Set(float64(s.registrar.loc.count()))

	udp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(s.listen))
	if err != nil {
		return fmt.Errorf("sip udp %s: %w", s.listen, err)
	}
	// One goroutine reads every UDP message; a burst while it is
	// descheduled must wait in the kernel, not be dropped (each drop costs
	// the sender a 500 ms retransmission). The kernel caps this at
	// net.core.rmem_max.
	if err := udp.SetReadBuffer(udpReadBuffer); err != nil {
		s.log.Warn("cannot enlarge the SIP UDP receive buffer", "error", err)
	}
	tcp, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(s.listen))
	if err != nil {
		udp.Close()
		return fmt.Errorf("sip tcp %s: %w", s.listen, err)
	}
	var tlsL net.Listener
	if s.tlsListen.IsValid() {
		cert, err := tls.LoadX509KeyPair(cfg.SIP.TLSCert, cfg.SIP.TLSKey)
		if err != nil {
			udp.Close()
			tcp.Close()
			return fmt.Errorf("sip tls certificate: %w", err)
		}
		tlsL, err = tls.Listen("tcp", s.tlsListen.String(), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			udp.Close()
			tcp.Close()
			return fmt.Errorf("sip tls %s: %w", s.tlsListen, err)
		}
	}
	closeSIP := func() {
		udp.Close()
		tcp.Close()
		if tlsL != nil {
			tlsL.Close()
		}
	}
	httpL, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		closeSIP()
		return fmt.Errorf("http %s: %w", cfg.HTTP.Listen, err)
	}
	s.httpAddr.Store(httpL.Addr().String())
	if err := s.openWebRTC(cfg, httpL.Addr()); err != nil {
		closeSIP()
		httpL.Close()
		return err
	}

	serveErr := make(chan error, 4)
	s.wg.Add(2)
	go func() { defer s.wg.Done(); serveErr <- s.sip.ServeUDP(udp) }()
	go func() { defer s.wg.Done(); serveErr <- s.sip.ServeTCP(tcp) }()
	if tlsL != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); serveErr <- s.sip.ServeTLS(tlsL) }()
	}
	// sipgo has no ready signal: requests sent before the UDP listener is in
	// its pool would try to bind the port a second time (libraries.md P3).
	if err := s.waitUDPReady(ctx); err != nil {
		return err
	}

	httpSrv := &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		if cfg.HTTP.TLSCert != "" {
			err = httpSrv.ServeTLS(httpL, cfg.HTTP.TLSCert, cfg.HTTP.TLSKey)
		} else {
			err = httpSrv.Serve(httpL)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- fmt.Errorf("http: %w", err)
		}
	}()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	s.wg.Add(8)
	go func() { defer s.wg.Done(); s.desk.run(runCtx.Done()) }()
	go func() { defer s.wg.Done(); s.sched.Run(runCtx) }()
	go func() { defer s.wg.Done(); s.poller.Run(runCtx) }()
	go func() { defer s.wg.Done(); s.warmTTS(runCtx) }()
	go func() { defer s.wg.Done(); s.watchdog.Run(runCtx) }()
	go func() { defer s.wg.Done(); s.trunks.run(runCtx) }()
	go func() { defer s.wg.Done(); s.housekeeping(runCtx) }()
	go func() { defer s.wg.Done(); s.calendars.run(runCtx, s.config, s.calendarKick) }()
	if s.live != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.live.Watch(runCtx, s.applyReload); err != nil {
				s.log.Error("configuration watch stopped", "error", err)
			}
		}()
	}

	s.log.Info("centralino ready",
		"sip_udp", s.listen.String(), "sip_tcp", s.listen.String(), "sip_tls", addrOrNone(s.tlsListen),
		"http", httpL.Addr().String(), "webrtc", s.rtc.LocalAddr().String(), "rtp_ports", cfg.RTP.Ports, "public", net.JoinHostPort(s.publicHost, strconv.Itoa(s.publicPort)),
		"config", cfg.Source)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
		s.log.Error("listener failed", "error", runErr)
	}
	stop()

	// Hang up what is in progress so that phones and trunks are not left
	// with dead calls, then close everything.
	s.calls.hangupAll("system", "server shutdown")
	s.calls.wait(5 * time.Second)
	s.trunks.unregisterAll(5 * time.Second)
	shutCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	httpSrv.Shutdown(shutCtx)
	cancel()
	udp.Close()
	tcp.Close()
	if tlsL != nil {
		tlsL.Close()
	}
	s.ua.Close()
	s.wg.Wait()
	s.rtc.Close()
	return runErr
}

func addrOrNone(a netip.AddrPort) string {
	if !a.IsValid() {
		return "off"
	}
	return a.String()
}

func (s *Server) waitUDPReady(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := s.ua.TransportLayer().GetConnection("udp", s.listen.String()); err == nil && c != nil {
			c.TryClose() // GetConnection took a reference
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("sip udp listener did not start")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// warmTTS synthesises the plans' texts at start and after each reload.
func (s *Server) warmTTS(ctx context.Context) {
	for {
		if err := s.tts.warm(ctx, s.config()); err != nil && ctx.Err() == nil {
			s.log.Warn("some texts could not be synthesised", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.ttsKick:
		}
	}
}

// italianRingback is the Italian ringing tone: 425 Hz, 1 s on, 4 s off.
func italianRingback() *media.Prompt {
	samples := make([]int16, 5*8000)
	for i := range 8000 {
		samples[i] = int16(6000 * math.Sin(2*math.Pi*425*float64(i)/8000))
	}
	return media.PromptFromPCM(samples)
}

// HTTPAddr is the admin API's address once Run is listening ("" before).
func (s *Server) HTTPAddr() string {
	v, _ := s.httpAddr.Load().(string)
	return v
}

func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	var (
		freedAt uint64    // calls started when memory was last given back
		again   time.Time // when to give back what the SIP timers still held
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := s.now()
			s.registrar.sweep(now)
			// Once a burst of calls is over, give its memory back to the
			// system: Go would keep the freed pages for minutes, and an idle
			// PBX should look idle. Once at once, and once more when the
			// finished calls' SIP transactions have timed out (Timer J, 32 s).
			active, started := s.calls.activity()
			switch {
			case active > 0:
				again = time.Time{}
			case started != freedAt:
				freedAt, again = started, now.Add(sipTransactionLinger)
				debug.FreeOSMemory()
			case !again.IsZero() && !now.Before(again):
				again = time.Time{}
				debug.FreeOSMemory()
			}
		}
	}
}

// sipTransactionLinger is how long a finished call's SIP transactions stay
// in memory (RFC 3261 Timer J, 64*T1, plus a little).
const sipTransactionLinger = 35 * time.Second

// credentials returns the digest secrets of an extension.
func (s *Server) credentials(cfg *config.Config, user string) (sipauth.Credentials, bool) {
	ext := cfg.Extension(user)
	if ext == nil {
		return sipauth.Credentials{}, false
	}
	if ext.Password != "" {
		return sipauth.Credentials{
			HA1MD5:    sipauth.HA1(sipauth.MD5, ext.Number, cfg.SIP.Realm, ext.Password),
			HA1SHA256: sipauth.HA1(sipauth.SHA256, ext.Number, cfg.SIP.Realm, ext.Password),
		}, true
	}
	return sipauth.Credentials{HA1MD5: ext.HA1, HA1SHA256: ext.HA1SHA256}, true
}

// setLocalAddr pins a request we originate over UDP to our listening
// socket: a trunk or phone must see requests come from the port it
// registered with or registered us on (libraries.md P4).
func (s *Server) setLocalAddr(req *sip.Request) {
	if strings.EqualFold(req.Transport(), "UDP") {
		req.Laddr = sip.Addr{IP: net.IP(s.listen.Addr().AsSlice()), Port: int(s.listen.Port())}
	}
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		slog.Debug("respond failed", "code", code, "error", err)
	}
}

func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	defer tx.Terminate() // stateless, like REGISTER: keep-alive floods cost no memory
	respond(tx, req, sip.StatusOK, "OK", nil,
		sip.NewHeader("Allow", s.allowed()),
		sip.NewHeader("Accept", "application/sdp"),
	)
}

func (s *Server) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	s.log.Debug("method not allowed", "method", req.Method, "call_id", callID(req), "source", req.Source())
	respond(tx, req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil, sip.NewHeader("Allow", s.allowed()))
}

// onCancel sees only CANCELs that matched no INVITE transaction (the
// transaction layer answers the others): RFC 3261 §9.2 says 481.
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
}

// onUnhandledResponse sees responses that matched no client transaction,
// mostly 2xx retransmissions of an INVITE we already ACKed.
func (s *Server) onUnhandledResponse(res *sip.Response) {
	s.log.Debug("unmatched response", "status", res.StatusCode, "call_id", callIDOf(res))
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

func callIDOf(m sip.Message) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// openWebRTC opens the operators' media port: console.webrtc_listen, or
// the HTTP listener's IP with the same port number over UDP.
func (s *Server) openWebRTC(cfg *config.Config, httpAddr net.Addr) error {
	listen := cfg.Console.WebRTCListen
	if listen == "" {
		listen = httpAddr.String()
	}
	ap, err := netip.ParseAddrPort(listen)
	if err != nil {
		return fmt.Errorf("console.webrtc_listen %q: %w", listen, err)
	}
	var adv []netip.Addr
	for _, a := range cfg.Console.WebRTCAdvertise {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Errorf("console.webrtc_advertise %q: %w", a, err)
		}
		adv = append(adv, ip)
	}
	s.rtc, err = media.NewWebRTC(media.WebRTCConfig{Listen: ap, Advertise: adv, Log: s.log.With("component", "webrtc")})
	if err != nil {
		return fmt.Errorf("console.webrtc_listen: %w", err)
	}
	return nil
}

// operatorAccount adapts a configured operator for the console's logins.
func (s *Server) operatorAccount(username string) (webauth.Account, bool) {
	o := s.config().Operator(username)
	if o == nil {
		return webauth.Account{}, false
	}
	return webauth.Account{Username: o.Username, Name: o.Name, Tenants: o.Tenants, PasswordHash: o.PasswordHash, Language: o.Language}, true
}
