// fanout's Java HttpClient peer: one java.net.http.HttpClient (HTTP/1.1, its keep-alive pool)
// and a virtual thread per request blocking on its exchange, at most C at once under a
// semaphore. The deadline covers the whole exchange, body included: HttpRequest's own timeout
// stops at the response's headers, so each thread waits on sendAsync's future for what is left
// and cancels the exchange at the deadline. `java -cp DIR HttpClientPeer URL C N TIMEOUT_MS`.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

final class HttpClientPeer {
    public static void main(String[] args) throws Exception {
        FanoutPeer.run(args, HttpClientPeer::work, Map.of());
    }

    static void work(FanoutPeer.Job job, FanoutPeer.Outcomes outcomes) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(job.url()))
                .timeout(Duration.ofMillis(job.timeoutMs()))
                .build();
        Semaphore slots = new Semaphore(job.concurrency());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        ExecutorService threads = FanoutPeer.virtualThreads();
        try {
            for (int i = 0; i < job.requests(); i++) {
                slots.acquire();
                threads.execute(() -> {
                    long started = System.nanoTime();
                    try {
                        CompletableFuture<HttpResponse<byte[]>> exchange =
                                client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
                        try {
                            outcomes.record(exchange.get(job.timeoutMs(), TimeUnit.MILLISECONDS).statusCode(), started);
                        } catch (TimeoutException e) {
                            exchange.cancel(true);
                            throw e;
                        } catch (ExecutionException e) {
                            throw e.getCause() instanceof Exception cause ? cause : e;
                        }
                    } catch (Exception e) {
                        outcomes.fail(e);
                    } finally {
                        slots.release();
                    }
                });
            }
        } finally {
            FanoutPeer.join(threads);
            // Java 21's HttpClient is AutoCloseable (its connections closed); 17's API is not.
            ((AutoCloseable) client).close();
        }
    }

    private HttpClientPeer() {}
}
