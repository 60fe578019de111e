package pbx

import (
	"github.com/centralino/centralino/media"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus collectors, on a registry of its own
// (no global state: tests run several servers in one process).
type metrics struct {
	registry      *prometheus.Registry
	registrations prometheus.Gauge
	activeCalls   prometheus.Gauge
	callsTotal    *prometheus.CounterVec
	authFailures  *prometheus.CounterVec
	trunkUp       *prometheus.GaugeVec
	reloads       prometheus.Counter
	reloadErrors  prometheus.Counter
	// The operator console.
	consoleConns prometheus.Gauge
	queueWaiting prometheus.Gauge
	queueWait    prometheus.Histogram
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		registrations: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "centralino_registrations", Help: "Registered contacts of extensions.",
		}),
		activeCalls: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "centralino_active_calls", Help: "Calls in progress (ringing or answered).",
		}),
		callsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "centralino_calls_total", Help: "Calls by final disposition.",
		}, []string{"disposition"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "centralino_auth_failures_total", Help: "Digest authentication failures.",
		}, []string{"method"}),
		trunkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "centralino_trunk_registered", Help: "1 when a register-mode trunk is registered.",
		}, []string{"trunk"}),
		reloads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "centralino_config_reloads_total", Help: "Configuration reloads that changed what is in force.",
		}),
		reloadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "centralino_config_reload_errors_total", Help: "Configuration files rejected by a reload (the last good version stays).",
		}),
		consoleConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "centralino_console_connections", Help: "Operator console pages connected (WebSockets).",
		}),
		queueWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "centralino_queue_waiting", Help: "Calls waiting for an operator.",
		}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "centralino_queue_wait_seconds", Help: "How long answered callers waited for an operator.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300},
		}),
	}
	for _, d := range []string{dispAnswered, dispVoicemail, dispNoAnswer, dispBusy, dispCancelled, dispFailed, "rejected"} {
		m.callsTotal.WithLabelValues(d)
	}
	// The playback scheduler counts for itself; these read its counters.
	playbacks := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "centralino_playbacks", Help: "Prompts being played to calls.",
	}, func() float64 { return float64(s.sched.Stats().Active) })
	frames := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "centralino_playback_frames_total", Help: "RTP frames of prompts sent.",
	}, func() float64 { return float64(s.sched.Stats().Frames) })
	realtime := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "centralino_playback_realtime",
		Help: "1 when the prompt player may run at realtime priority under load (see docs/operations.md), 0 when not.",
	}, func() float64 {
		if s.sched.Stats().Realtime {
			return 1
		}
		return 0
	})
	slipped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "centralino_playback_slipped_frames_total",
		Help: "Frames each playback was delayed by after the scheduler stalled for more than 60 ms (an overloaded machine).",
	}, func() float64 { return float64(s.sched.Stats().Slipped) })
	polled := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "centralino_rtp_polled_legs",
		Help: "Callers served by Centralino itself whose audio is read by the shared poller, not by a goroutine per call (Linux).",
	}, func() float64 { return float64(s.poller.Len()) })
	peers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "centralino_webrtc_peer_connections", Help: "WebRTC PeerConnections open (operators in a call).",
	}, func() float64 {
		if s.rtc == nil {
			return 0
		}
		return float64(s.rtc.Open())
	})
	sessions := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "centralino_console_sessions", Help: "Operator logins not yet expired.",
	}, func() float64 { return float64(s.web.Sessions()) })
	operators := prometheus.NewDesc("centralino_operators", "Operators with the console open, by status.", []string{"status"}, nil)
	m.registry.MustRegister(m.consoleConns, m.queueWaiting, m.queueWait, peers, sessions, operatorGauge{s, operators})
	m.registry.MustRegister(m.registrations, m.activeCalls, m.callsTotal, m.authFailures, m.trunkUp, m.reloads, m.reloadErrors,
		playbacks, frames, slipped, realtime, polled, lateness{s, prometheus.NewDesc("centralino_playback_wakeup_lateness_seconds",
			"How late the prompt player woke up after a slot's due time; its frames leave that much late.", nil, nil)},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, t := range s.config().Trunks {
		if t.Mode == "register" {
			m.trunkUp.WithLabelValues(t.Name).Set(0)
		}
	}
	return m
}

func (m *metrics) setTrunk(name string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.trunkUp.WithLabelValues(name).Set(v)
}

// lateness exposes the scheduler's wake-up lateness counts as a histogram.
type lateness struct {
	s    *Server // its scheduler is made after the metrics
	desc *prometheus.Desc
}

func (l lateness) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l lateness) Collect(ch chan<- prometheus.Metric) {
	st := l.s.sched.Stats()
	buckets := make(map[float64]uint64, len(st.Late)-1)
	var cum uint64
	for i, b := range media.LatenessBounds() {
		cum += st.Late[i]
		buckets[b.Seconds()] = cum
	}
	ch <- prometheus.MustNewConstHistogram(l.desc, cum+st.Late[len(st.Late)-1], st.LateSum.Seconds(), buckets)
}

// operatorGauge counts the desk's operators by status at each scrape.
type operatorGauge struct {
	s    *Server
	desc *prometheus.Desc
}

func (o operatorGauge) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

func (o operatorGauge) Collect(ch chan<- prometheus.Metric) {
	counts := o.s.desk.counts()
	for _, st := range []string{opAvailable, opPaused, opBusy, opWrapUp} {
		ch <- prometheus.MustNewConstMetric(o.desc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
