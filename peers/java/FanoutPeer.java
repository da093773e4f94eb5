// The peer protocol for fanout's Java peers (docs/peers.md): `java -cp DIR PEER URL C N
// TIMEOUT_MS` in, one JSON line out. `run` times the peer's work (the timed region: client
// built, every request, teardown), prints ok, errors by kind, every ok request's latency,
// resident memory before and CPU of the timed region, then waits for stdin to close so fanout
// reads the peak memory before the process exits. Written for Java 17's compiler and run on
// Java 21 or later: virtual threads are reached through reflection.

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

final class FanoutPeer {
    /** One point's job, from the command line. */
    record Job(String url, int concurrency, int requests, int timeoutMs) {}

    /** The peer's work: every request of `job`, recorded in `outcomes`. */
    interface Work {
        void run(Job job, Outcomes outcomes) throws Exception;
    }

    /** Ok count, errors by kind and every ok request's latency, shared by the threads. */
    static final class Outcomes {
        private long ok;
        private final Map<String, Long> errors = new TreeMap<>();
        private final List<Double> latenciesMs = new ArrayList<>();
        private Throwable firstError;

        synchronized void record(int status, long startedNanos) {
            if (status == 200) {
                ok++;
                latenciesMs.add((System.nanoTime() - startedNanos) / 1e6);
            } else {
                errors.merge("http_" + status, 1L, Long::sum);
            }
        }

        synchronized void fail(Throwable error) {
            errors.merge(kind(error), 1L, Long::sum);
            if (firstError == null) firstError = error;
        }
    }

    /** A body that ended before its Content-Length. */
    static final class Truncated extends IOException {
        private static final long serialVersionUID = 1L;

        Truncated(String message) {
            super(message);
        }
    }

    /** fanout's error kind for `error`: the OS's message anywhere in its chain first (Java
     * gives no errno, and a ConnectException may wrap "Too many open files"), then classes. */
    static String kind(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            String message = String.valueOf(e.getMessage()).toLowerCase();
            if (message.contains("too many open files")) return "too_many_open_files";
            if (message.contains("cannot assign requested address")) return "addr_not_available";
            if (e instanceof OutOfMemoryError && message.contains("native thread")) return "thread_spawn";
        }
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof HttpTimeoutException || e instanceof SocketTimeoutException
                    || e instanceof java.util.concurrent.TimeoutException) return "timeout";
            if (e instanceof Truncated) return "truncated";
            String message = String.valueOf(e.getMessage()).toLowerCase();
            if (e instanceof ConnectException || message.contains("connection refused")) return "connection_refused";
            if (message.contains("connection reset") || message.contains("broken pipe")) return "connection_reset";
            // HttpClient's body cut short: "fixed content-length: 32, bytes received: 16".
            if (message.contains("bytes received")) return "truncated";
            if (e instanceof EOFException || message.contains("eof reached")) return "connection_reset";
        }
        return error instanceof IOException ? "io" : "other";
    }

    /** An executor starting a virtual thread per task (Java 21's, through reflection). */
    static ExecutorService virtualThreads() throws ReflectiveOperationException {
        return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    }

    /** Waits for every task `threads` was given to end. */
    static void join(ExecutorService threads) throws InterruptedException {
        threads.shutdown();
        while (!threads.awaitTermination(1, java.util.concurrent.TimeUnit.DAYS)) {
            // a day at a time, until every task has ended
        }
    }

    /** Resident memory now: VmRSS of /proc/self/status, in kB. */
    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        return 0;
    }

    /** `text` as a JSON string's contents: quotes, backslashes and control characters escaped. */
    private static String json(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }

    /** Fields of /proc/self/stat after its command's closing parenthesis. */
    private static String[] stat() throws IOException {
        String text = Files.readString(Path.of("/proc/self/stat"));
        return text.substring(text.lastIndexOf(')') + 2).split(" ");
    }

    /** Runs `work` on the job `args` name and prints the protocol's line. */
    static void run(String[] args, Work work, Map<String, String> versions) throws Exception {
        Job job;
        try {
            job = new Job(args[0], Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            if (job.concurrency() < 1 || job.requests() < 0 || job.timeoutMs() < 1) throw new IllegalArgumentException();
        } catch (RuntimeException e) {
            System.err.println("usage: URL C N TIMEOUT_MS (C and TIMEOUT_MS at least 1)");
            System.exit(2);
            return;
        }
        long rssBefore = rssBytes();
        String[] before = stat();
        Outcomes outcomes = new Outcomes();
        String strategyError = null;
        long started = System.nanoTime();
        try {
            work.run(job, outcomes);
        } catch (Throwable e) {
            // The requests not recorded count as not run.
            strategyError = e.toString();
        }
        double wallS = (System.nanoTime() - started) / 1e9;
        String[] after = stat();
        // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks: USER_HZ, 100 a
        // second on Linux whatever the kernel's own tick (10 ms resolution).
        double userS = (Long.parseLong(after[11]) - Long.parseLong(before[11])) / 100.0;
        double sysS = (Long.parseLong(after[12]) - Long.parseLong(before[12])) / 100.0;
        if (outcomes.firstError != null) System.err.println("first error: " + outcomes.firstError);
        StringBuilder line = new StringBuilder("{");
        synchronized (outcomes) {
            line.append("\"ok\":").append(outcomes.ok).append(",\"errors\":{");
            String comma = "";
            for (Map.Entry<String, Long> e : outcomes.errors.entrySet()) {
                line.append(comma).append('"').append(e.getKey()).append("\":").append(e.getValue());
                comma = ",";
            }
            line.append("},\"latencies_ms\":[");
            comma = "";
            for (double ms : outcomes.latenciesMs) {
                line.append(comma).append(Math.round(ms * 1000) / 1000.0);
                comma = ",";
            }
        }
        line.append("],\"wall_s\":").append(wallS).append(",\"rss_before_bytes\":").append(rssBefore);
        line.append(",\"timed_cpu_user_s\":").append(userS).append(",\"timed_cpu_sys_s\":").append(sysS);
        line.append(",\"versions\":{\"java\":\"").append(json(Runtime.version().toString())).append('"');
        for (Map.Entry<String, String> e : versions.entrySet()) {
            line.append(",\"").append(json(e.getKey())).append("\":\"").append(json(e.getValue())).append('"');
        }
        line.append('}');
        if (strategyError != null) {
            line.append(",\"strategy_error\":\"").append(json(strategyError)).append('"');
        }
        System.out.println(line.append('}'));
        System.out.flush();
        System.in.transferTo(java.io.OutputStream.nullOutputStream());
        // Threads stuck in a request must not keep the process alive.
        Runtime.getRuntime().halt(0);
    }

    private FanoutPeer() {}
}
