// Command bench measures afimport end to end: it generates a renewals
// export and its mapping, builds the afimport binary once, starts the mock
// S2S API as a separate process (afimport mock), runs the real binary
// against it several times, and prints rows/s, CPU per row (user+sys of the
// afimport process) and peak RSS per run and their medians. With -hey it
// also measures the ceiling: hey POSTing one fixed body, as afimport would
// send it, to the same mock with the same concurrency.
//
// With -tls the mock serves HTTPS with a self-signed certificate made at
// start, which afimport trusts through SSL_CERT_FILE (its normal system
// roots path); -http picks the protocol (HTTP/2 through ALPN, or 1.1).
//
//	go run ./importer/s2stest/bench -rows 200000 -runs 3 -hey
//	go run ./importer/s2stest/bench -rows 20000 -rate 1000 -max-in-flight 0 -latency 100ms -jitter 40ms
//	go run ./importer/s2stest/bench -rows 100000 -tls -http 2 -hey
//	go run ./importer/s2stest/bench -rows 200000 -dry
//	go run ./importer/s2stest/bench -rows 600000 -dry -phone -long-url -format csv,parquet -layout duckdb -base /tmp/afimport-old
//
// Loopback only: the mock listens on 127.0.0.1.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"afimport/importer/s2stest"
	"afimport/internal/benchdata"
	"afimport/mappings"
	"afimport/readers"
)

type config struct {
	rows        int
	latency     time.Duration
	jitter      time.Duration
	concurrency int
	tls         bool
	http        string
	dry         bool
	format      string
	runs        int
	hey         bool
	heyN        int
	rate        float64
	burst       int
	phone       bool
	preflight   bool
	keep        bool
	extra       string
	bin         string
	base        string
	layout      string
}

// longURL makes page_url ~110 bytes and distinct per row, as in real exports
// (the default keeps the short, repeating URL of the earlier figures).
var longURL bool

func main() {
	var c config
	flag.IntVar(&c.rows, "rows", 200000, "rows in the generated export")
	flag.DurationVar(&c.latency, "latency", 0, "mock service time per request")
	flag.DurationVar(&c.jitter, "jitter", 0, "mock: uniform random extra service time per request")
	flag.IntVar(&c.concurrency, "max-in-flight", 64, "afimport --max-in-flight, and hey -c (0: afimport's default, hey -c 64)")
	flag.IntVar(&c.concurrency, "concurrency", 64, "old name of -max-in-flight")
	flag.BoolVar(&c.tls, "tls", false, "the mock serves HTTPS with a self-signed certificate, trusted by afimport through SSL_CERT_FILE")
	flag.StringVar(&c.http, "http", "auto", "afimport --http: auto, 1.1 or 2 (2 needs -tls); hey -h2 unless 1.1 or plain http")
	flag.BoolVar(&c.dry, "dry", false, "afimport --dry-run (no mock)")
	flag.StringVar(&c.format, "format", "csv", "export formats, comma separated: csv, ndjson, parquet (the same rows in each; runs alternate between them)")
	flag.StringVar(&c.layout, "layout", "arrow", "parquet layout: arrow (1 MiB pages, one row group), duckdb (row groups of 122,880 rows, one page per column each), duckdb1 (one row group, one page per column)")
	flag.StringVar(&c.base, "base", "", "also run this afimport binary (a baseline, e.g. main's build), interleaved with the one measured")
	flag.BoolVar(&longURL, "long-url", false, "page_url ~110 bytes and distinct per row (default: short and repeating)")
	flag.IntVar(&c.runs, "runs", 3, "runs of afimport; medians are over these")
	flag.BoolVar(&c.hey, "hey", false, "also run hey (if on PATH) against the same mock for the ceiling")
	flag.IntVar(&c.heyN, "hey-n", 0, "hey requests (default: -rows)")
	flag.Float64Var(&c.rate, "rate", 0, "afimport --rate (0: unlimited)")
	flag.IntVar(&c.burst, "burst", 20, "afimport --burst")
	flag.BoolVar(&c.phone, "phone", true, "map the phone column (E.164 hashing, region from country); -phone=false leaves it out")
	flag.BoolVar(&c.preflight, "preflight", true, "afimport --preflight (its default)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory and print its path")
	flag.StringVar(&c.extra, "args", "", "extra afimport import flags, space separated")
	flag.StringVar(&c.bin, "bin", "", "use this afimport binary (e.g. an older build, for before/after) instead of building one")
	flag.Parse()
	for _, f := range strings.Split(c.format, ",") {
		if f != "csv" && f != "ndjson" && f != "parquet" {
			fatalf("-format %q: want csv, ndjson or parquet", f)
		}
	}
	if _, ok := parquetLayouts[c.layout]; !ok {
		fatalf("-layout %q: want arrow, duckdb or duckdb1", c.layout)
	}
	if c.runs < 1 || c.rows < 1 {
		fatalf("-runs and -rows must be at least 1")
	}
	switch {
	case c.http != "auto" && c.http != "1.1" && c.http != "2":
		fatalf("-http %q: want auto, 1.1 or 2", c.http)
	case c.http == "2" && !c.tls:
		fatalf("-http 2 needs -tls (the mock offers HTTP/2 through ALPN only)")
	}
	if err := run(c); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}

func run(c config) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "afimport-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Printf("temporary directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	bin := c.bin
	if bin == "" {
		bin = filepath.Join(dir, "afimport")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}

	now := time.Now()
	mapping := filepath.Join(dir, "renewals.yaml")
	if err := os.WriteFile(mapping, []byte(benchdata.Mapping(c.phone)), 0o644); err != nil {
		return err
	}
	formats := strings.Split(c.format, ",")
	inputs := make([]string, len(formats))
	for i, format := range formats {
		inputs[i] = filepath.Join(dir, "renewals."+format)
		size, err := writeExport(inputs[i], format, c.layout, c.rows, now)
		if err != nil {
			return err
		}
		layout := ""
		if format == "parquet" {
			layout = " (" + c.layout + " layout, zstd)"
		}
		fmt.Printf("input: %d rows, %d columns, %s%s, %.1f MB; GOMAXPROCS %d, %s\n",
			c.rows, len(benchdata.Columns), format, layout, float64(size)/1e6, runtime.GOMAXPROCS(0), runtime.Version())
	}
	bins := []string{bin}
	names := []string{"afimport"}
	if c.base != "" {
		bins = []string{c.base, bin}
		names = []string{"base", "afimport"}
	}

	var mock *mockProc
	if !c.dry {
		if mock, err = startMock(bin, dir, c); err != nil {
			return err
		}
		defer mock.stop()
		fmt.Printf("mock: %s (pid %d, latency %s, jitter %s, afimport --http %s)\n", mock.url, mock.cmd.Process.Pid, c.latency, c.jitter, c.http)
	}

	if i := slices.Index(formats, "csv"); c.dry && i >= 0 {
		input := inputs[i]
		// The reading floor: a bare encoding/csv pass over the same file.
		var floor []float64
		for range max(c.runs, 3) {
			rps, err := csvFloor(input)
			if err != nil {
				return err
			}
			floor = append(floor, rps)
		}
		fmt.Printf("encoding/csv read of the same file (1 goroutine): median %.0f rows/s %s\n", median(floor), fmtList(floor, "%.0f"))
	}

	var heyRPS, heyCPUs []float64
	heyRun := func() {
		if !c.hey || mock == nil {
			return
		}
		rps, cpu, heyCPU, err := runHey(dir, mock, c, now)
		if err != nil {
			fmt.Printf("hey: %v\n", err)
			return
		}
		heyRPS = append(heyRPS, rps)
		heyCPUs = append(heyCPUs, heyCPU)
		fmt.Printf("hey     : %9.0f req/s  %6.1f µs CPU/req  (mock CPU %.1f µs/req)\n", rps, heyCPU, cpu)
	}

	// One series per (binary, format), each run going through all of them
	// in turn, so that they all see the same machine.
	type series struct {
		label         string
		bin, input    string
		rps, cpu, rss []float64
	}
	var all []*series
	for i, format := range formats {
		for j := range bins {
			label := names[j]
			if len(formats) > 1 {
				label += " " + format
			}
			all = append(all, &series{label: label, bin: bins[j], input: inputs[i]})
		}
	}
	width := 8
	for _, s := range all {
		width = max(width, len(s.label))
		if len(all) > 1 {
			width = max(width, len("median ")+len(s.label))
		}
	}
	fmt.Printf("%-*s %10s %12s %10s %10s %s\n", width, "run", "rows/s", "CPU µs/row", "RSS MB", "wall s", "mock CPU µs/req")
	for range c.runs {
		heyRun() // interleaved, so both see the same machine
		for _, s := range all {
			res, err := runImport(s.bin, dir, s.input, mapping, mock, c)
			if err != nil {
				return err
			}
			s.rps = append(s.rps, res.rps)
			s.cpu = append(s.cpu, res.cpuPerRow)
			s.rss = append(s.rss, res.rssMB)
			mockCPU := "-"
			if res.mockCPU > 0 {
				mockCPU = fmt.Sprintf("%.1f", res.mockCPU)
			}
			fmt.Printf("%-*s %10.0f %12.1f %10.1f %10.2f %s\n", width, s.label, res.rps, res.cpuPerRow, res.rssMB, res.wall.Seconds(), mockCPU)
			if res.perSecond != nil {
				printRate(res.perSecond, c.rate, c.burst)
			}
		}
	}
	heyRun()
	for _, s := range all {
		label := "median"
		if len(all) > 1 {
			label += " " + s.label
		}
		fmt.Printf("%-*s %10.0f %12.1f %10.1f\n", width, label, median(s.rps), median(s.cpu), median(s.rss))
	}
	last := all[len(all)-1]
	rps, cpu := last.rps, last.cpu
	if len(heyRPS) > 0 {
		h := median(heyRPS)
		fmt.Printf("hey median %.0f req/s %s; afimport/hey = %.1f%%\n", h, fmtList(heyRPS, "%.0f"), 100*median(rps)/h)
		fmt.Printf("hey median CPU %.1f µs/req %s; afimport CPU per row / hey CPU per request = %.1f%%\n",
			median(heyCPUs), fmtList(heyCPUs, "%.1f"), 100*median(cpu)/median(heyCPUs))
	}
	return nil
}

// moduleRoot is the directory of the afimport go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the afimport module")
	}
	return filepath.Dir(gomod), nil
}

var (
	firstNames = []string{"John", "Ana", "Élodie", "Mei", "Oluwaseun", "Jürgen", "Priya", "Lars", "Sofía", "Hiroshi"}
	lastNames  = []string{"Smith", "García", "Dubois", "Chen", "Adeyemi", "Müller", "Sharma", "Nilsson", "López", "Tanaka"}
	plans      = []string{"pro-monthly", "pro-yearly", "team-monthly", "basic-monthly"}
	currencies = []string{"USD", "EUR", "GBP", "JPY"}
	agents     = []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	}
)

// windowStart is the earliest instant still inside the acceptance window
// (UTC app timezone): today 00:00, or yesterday 00:00 before 00:30.
func windowStart(now time.Time) time.Time {
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if now.Sub(day) < 30*time.Minute {
		day = day.AddDate(0, 0, -1)
	}
	return day
}

func genRow(i int, now time.Time, rnd *rand.Rand, spread time.Duration) []string {
	phone, country := benchdata.Phone(i)
	fn, ln := firstNames[rnd.IntN(len(firstNames))], lastNames[rnd.IntN(len(lastNames))]
	coupon := ""
	if i%4 == 0 {
		coupon = "SUMMER" + strconv.Itoa(10+i%3*5)
	}
	ts := now.Add(-time.Duration(rnd.Int64N(int64(spread)))).UTC().Format(time.RFC3339)
	plan := plans[i%len(plans)]
	url := "https://www.example.com/plans/" + plan + "?utm_source=crm&utm_medium=email"
	user := fmt.Sprintf("cus_%08x", rnd.Uint32())
	if longURL {
		url += fmt.Sprintf("&utm_campaign=renewal-%d&ref=%s&session=%016x", i%97, user, rnd.Uint64())
	}
	return []string{
		"rn-" + strconv.Itoa(1000000+i),
		user,
		fmt.Sprintf(" %s.%s+%d@Example.COM", fn, ln, i),
		phone,
		country,
		fn, ln, plan,
		fmt.Sprintf("%d.%02d", 5+rnd.IntN(500), rnd.IntN(100)),
		currencies[i%len(currencies)],
		ts,
		fmt.Sprintf("%d.%d.%d.%d", 1+rnd.IntN(223), rnd.IntN(256), rnd.IntN(256), 1+rnd.IntN(254)),
		agents[i%len(agents)],
		url,
		coupon,
	}
}

// writeExport writes the renewals export and returns its size.
func writeExport(path, format, layout string, n int, now time.Time) (int64, error) {
	rnd := rand.New(rand.NewPCG(1, 2))
	// Spread timestamps over the last hour, never before the window opens
	// nor within a minute of it (the run takes time).
	spread := min(time.Hour, now.Sub(windowStart(now))-time.Minute)
	spread = max(spread, time.Second)
	if format == "parquet" {
		if err := writeParquet(path, layout, n, now, rnd, spread); err != nil {
			return 0, err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	switch format {
	case "csv":
		cw := csv.NewWriter(bw)
		_ = cw.Write(benchdata.Columns)
		for i := range n {
			_ = cw.Write(genRow(i, now, rnd, spread))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return 0, err
		}
	case "ndjson":
		var line []byte
		for i := range n {
			rec := genRow(i, now, rnd, spread)
			line = append(line[:0], '{')
			for j, col := range benchdata.Columns {
				if j > 0 {
					line = append(line, ',')
				}
				line = strconv.AppendQuote(line, col)
				line = append(line, ':')
				switch {
				case col == "amount":
					line = append(line, rec[j]...)
				case col == "coupon" && rec[j] == "":
					line = append(line, "null"...)
				default:
					line = strconv.AppendQuote(line, rec[j])
				}
			}
			line = append(line, '}', '\n')
			_, _ = bw.Write(line)
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// csvFloor reads the file with encoding/csv and nothing else.
func csvFloor(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		n++
	}
	return float64(n-1) / time.Since(start).Seconds(), nil
}

type mockProc struct {
	cmd *exec.Cmd
	url string
	// caFile is the mock's self-signed certificate with -tls ("" without):
	// afimport trusts it through SSL_CERT_FILE, the bench's own client
	// through client.
	caFile string
	client *http.Client
}

var listenRE = regexp.MustCompile(`listening on (https?://\S+)`)

func startMock(bin, dir string, c config) (*mockProc, error) {
	args := []string{"mock", "--addr", "127.0.0.1:0", "--latency", c.latency.String(), "--jitter", c.jitter.String()}
	m := &mockProc{client: http.DefaultClient}
	if c.tls {
		cert, key, err := s2stest.WriteSelfSigned(dir)
		if err != nil {
			return nil, fmt.Errorf("self-signed certificate: %w", err)
		}
		pemBytes, err := os.ReadFile(cert)
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pemBytes)
		m.caFile = cert
		m.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		args = append(args, "--tls-cert", cert, "--tls-key", key)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AF_S2S_TOKEN=bench-token")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mock: %w", err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if sub := listenRE.FindStringSubmatch(sc.Text()); sub != nil {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			m.cmd, m.url = cmd, sub[1]
			return m, nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, errors.New("mock did not report its address")
}

func (m *mockProc) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
	}
}

// cpu is the user+sys time the process has used so far, from
// /proc/PID/stat (0 where there is no /proc).
func (m *mockProc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): state is 3,
	// utime 14, stime 15 (1-based).
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(u+st) * time.Second / hz
}

type result struct {
	rps, cpuPerRow, rssMB float64
	wall                  time.Duration
	mockCPU               float64 // µs per request
	perSecond             []int64 // requests the mock saw in each second of the run (with -rate)
}

func runImport(bin, dir, input, mapping string, mock *mockProc, c config) (result, error) {
	report := filepath.Join(dir, "report.csv")
	summary := filepath.Join(dir, "summary.json")
	_ = os.Remove(summary)
	args := []string{"import", "--mapping", mapping, "--report", report, "--summary", summary, "--overwrite", "--quiet",
		"--rate", strconv.FormatFloat(c.rate, 'f', -1, 64),
		"--burst", strconv.Itoa(c.burst), "--preflight=" + strconv.FormatBool(c.preflight), "--http", c.http}
	if c.concurrency > 0 {
		args = append(args, "--max-in-flight", strconv.Itoa(c.concurrency))
	}
	if c.dry {
		args = append(args, "--dry-run")
	} else {
		args = append(args, "--endpoint", mock.url)
	}
	args = append(args, strings.Fields(c.extra)...)
	args = append(args, input)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AF_S2S_TOKEN=bench-token")
	if mock != nil && mock.caFile != "" {
		// afimport's normal path: the system roots, which on Linux are
		// read from SSL_CERT_FILE when it is set.
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+mock.caFile)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var mock0 time.Duration
	if mock != nil {
		mock0 = mock.cpu()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	err := cmd.Wait()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return result{}, err
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		return result{}, fmt.Errorf("afimport exited %d:\n%s", code, tail(stderr.String(), 2000))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// Peak RSS from afimport's own summary (VmHWM): rusage's Maxrss would
	// include this process's memory, which Linux carries into a child
	// across exec. An older binary without the field falls back to it.
	rss := float64(ru.Maxrss) * 1024 // KiB on Linux
	var sum struct {
		PeakRSS int64 `json:"peak_rss_bytes"`
	}
	if b, err := os.ReadFile(summary); err == nil && json.Unmarshal(b, &sum) == nil && sum.PeakRSS > 0 {
		rss = float64(sum.PeakRSS)
	}
	res := result{
		rps:       float64(c.rows) / wall.Seconds(),
		cpuPerRow: float64(cpu.Microseconds()) / float64(c.rows),
		rssMB:     rss / 1e6,
		wall:      wall,
	}
	if mock != nil {
		res.mockCPU = float64((mock.cpu() - mock0).Microseconds()) / float64(c.rows)
	}
	if mock != nil && c.rate > 0 {
		if res.perSecond, err = mock.perSecond(start, start.Add(wall)); err != nil {
			return result{}, err
		}
	}
	return res, nil
}

func runHey(dir string, mock *mockProc, c config, now time.Time) (rps, mockCPU, heyCPU float64, err error) {
	heyBin, err := exec.LookPath("hey")
	if err != nil {
		return 0, 0, 0, errors.New("not on PATH (go install github.com/rakyll/hey@latest)")
	}
	body, err := sampleBody(c, now)
	if err != nil {
		return 0, 0, 0, err
	}
	bodyFile := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return 0, 0, 0, err
	}
	n := c.heyN
	if n <= 0 {
		n = c.rows
	}
	mock0 := mock.cpu()
	conc := c.concurrency
	if conc <= 0 {
		conc = 64
	}
	args := []string{"-n", strconv.Itoa(n), "-c", strconv.Itoa(conc), "-m", "POST",
		"-T", "application/json", "-H", "Authorization: Bearer bench-token", "-D", bodyFile}
	if c.tls && c.http != "1.1" {
		args = append(args, "-h2") // what afimport negotiates (hey skips certificate checks)
	}
	cmd := exec.Command(heyBin, append(args, mock.url+"/v2.0/s2s/inapps/app/web/website-www.example.com")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %s", err, tail(string(out), 500))
	}
	m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return 0, 0, 0, fmt.Errorf("no Requests/sec in its output: %s", tail(string(out), 500))
	}
	if !bytes.Contains(out, []byte("[202]")) || bytes.Contains(out, []byte("Error distribution")) {
		return 0, 0, 0, fmt.Errorf("not every answer was 202: %s", tail(string(out), 800))
	}
	rps, _ = strconv.ParseFloat(string(m[1]), 64)
	// hey's own CPU per request: the baseline for afimport's CPU per row,
	// measured on the same machine a moment apart.
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	heyCPU = float64(time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Microseconds()) / float64(n)
	return rps, float64((mock.cpu() - mock0).Microseconds()) / float64(n), heyCPU, nil
}

// sampleBody is the body afimport sends for the first generated row.
func sampleBody(c config, now time.Time) ([]byte, error) {
	m, err := mappings.Parse([]byte(benchdata.Mapping(c.phone)), "bench.yaml")
	if err != nil {
		return nil, err
	}
	rec := genRow(0, now, rand.New(rand.NewPCG(1, 2)), time.Minute)
	vals := make([]readers.Value, len(m.Columns()))
	for i, col := range m.Columns() {
		vals[i] = readers.String(rec[slices.Index(benchdata.Columns, col)])
	}
	p, err := m.Apply(vals)
	if err != nil {
		return nil, err
	}
	return p.Body, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtList(xs []float64, f string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(f, x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// perSecond is the mock's count of requests that arrived in each
// wall-clock second from start to end (the mock buckets arrivals itself,
// so there is no sampling jitter), zero seconds included.
func (m *mockProc) perSecond(start, end time.Time) ([]int64, error) {
	resp, err := m.client.Get(m.url + "/_mock/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct {
		PerSecond []struct {
			Unix     int64 `json:"unix"`
			Requests int64 `json:"requests"`
		} `json:"per_second"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("mock stats: %w", err)
	}
	counts := map[int64]int64{}
	for _, sc := range st.PerSecond {
		counts[sc.Unix] = sc.Requests
	}
	var out []int64
	for sec := start.Unix(); sec <= end.Unix(); sec++ {
		out = append(out, counts[sec])
	}
	return out, nil
}

// printRate sums up the per-second counts of a paced run: the full
// seconds (the first and last, partial, are left out), their mean against
// the rate, and the busiest second against rate + burst.
func printRate(per []int64, rate float64, burst int) {
	for len(per) > 0 && per[0] == 0 { // start-up and preflight
		per = per[1:]
	}
	for len(per) > 0 && per[len(per)-1] == 0 {
		per = per[:len(per)-1]
	}
	if len(per) < 3 {
		fmt.Printf("  rate: run too short for per-second figures %v\n", per)
		return
	}
	full := per[1 : len(per)-1]
	var sum, hi int64
	lo := full[0]
	for _, n := range full {
		sum += n
		hi, lo = max(hi, n), min(lo, n)
	}
	mean := float64(sum) / float64(len(full))
	fmt.Printf("  rate: %d full seconds, mean %.1f req/s (%+.2f%% of %g), min %d, max %d (limit rate+burst %d)\n",
		len(full), mean, 100*(mean-rate)/rate, rate, lo, hi, int(rate)+burst)
}
