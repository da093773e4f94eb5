// fanout's Java floor: C virtual threads, each with its own keep-alive socket (java.net.Socket)
// and a minimal HTTP/1.1 exchange — a GET written whole, the status line and headers read,
// the body read to its Content-Length — taking requests one after another until N are taken;
// the socket's read timeout is what is left of each request's deadline.
// `java -cp DIR SocketPeer URL C N TIMEOUT_MS`.

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

final class SocketPeer {
    public static void main(String[] args) throws Exception {
        FanoutPeer.run(args, SocketPeer::work, Map.of());
    }

    static void work(FanoutPeer.Job job, FanoutPeer.Outcomes outcomes) throws Exception {
        URI uri = URI.create(job.url());
        InetSocketAddress server = new InetSocketAddress(uri.getHost(), uri.getPort());
        String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        byte[] get = ("GET " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort() + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        AtomicInteger left = new AtomicInteger(job.requests());
        ExecutorService threads = FanoutPeer.virtualThreads();
        try {
            for (int i = 0; i < Math.min(job.concurrency(), job.requests()); i++) {
                threads.execute(() -> new Slot(server, get, job.timeoutMs()).serve(left, outcomes));
            }
        } finally {
            FanoutPeer.join(threads);
        }
    }

    /** One thread's connection, dialled when it has none. */
    private static final class Slot {
        private final InetSocketAddress server;
        private final byte[] get;
        private final int timeoutMs;
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        Slot(InetSocketAddress server, byte[] get, int timeoutMs) {
            this.server = server;
            this.get = get;
            this.timeoutMs = timeoutMs;
        }

        void serve(AtomicInteger left, FanoutPeer.Outcomes outcomes) {
            while (left.getAndDecrement() > 0) {
                long started = System.nanoTime();
                try {
                    outcomes.record(exchange(started + timeoutMs * 1_000_000L), started);
                } catch (Exception e) {
                    close();
                    outcomes.fail(e);
                }
            }
            close();
        }

        /** One request on the slot's connection; its status once its body is read. */
        private int exchange(long deadline) throws IOException {
            if (socket == null) {
                socket = new Socket();
                socket.connect(server, left(deadline));
                in = new BufferedInputStream(socket.getInputStream());
                out = socket.getOutputStream();
            }
            out.write(get);
            socket.setSoTimeout(left(deadline));
            String status = line();
            if (status == null) throw new IOException("connection reset: closed before a response");
            long length = -1;
            boolean closes = false;
            for (String header = line(); header != null && !header.isEmpty(); header = line()) {
                String lower = header.toLowerCase();
                if (lower.startsWith("content-length:")) length = Long.parseLong(lower.substring(15).trim());
                if (lower.startsWith("connection:") && lower.contains("close")) closes = true;
            }
            if (length < 0) throw new IOException("a response without Content-Length");
            byte[] body = new byte[8192];
            for (long read = 0; read < length; ) {
                // Each read waits at most what is left of the deadline.
                socket.setSoTimeout(left(deadline));
                int got = in.read(body, 0, (int) Math.min(body.length, length - read));
                if (got < 0) throw new FanoutPeer.Truncated(read + " of " + length + " bytes");
                read += got;
            }
            if (closes) close();
            return Integer.parseInt(status.split(" ")[1]);
        }

        /** The time left before `deadline`, in ms, at least 1 (0 would mean no timeout). */
        private static int left(long deadline) throws SocketTimeoutException {
            long ms = (deadline - System.nanoTime()) / 1_000_000L;
            if (ms < 1) throw new SocketTimeoutException("deadline");
            return (int) Math.min(ms, Integer.MAX_VALUE);
        }

        /** A header line without its CRLF, or null at the stream's end. */
        private String line() throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b < 0) return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.US_ASCII);
                if (b != '\r') bytes.write(b);
            }
            return bytes.toString(StandardCharsets.US_ASCII);
        }

        private void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // Closing is all that is left to do with it.
                }
                socket = null;
            }
        }
    }

    private SocketPeer() {}
}
