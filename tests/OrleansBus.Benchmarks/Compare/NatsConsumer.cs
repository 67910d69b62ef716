using System.Diagnostics;
using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// A pull-consumer member. A fetch sends <c>$JS.API.CONSUMER.MSG.NEXT.&lt;stream&gt;.&lt;durable&gt;</c> requests, each
/// to its own reply subject, until it has its batch or its wait is over; each delivered message is handed to the
/// sink and acknowledged with <c>+ACK</c> to its <c>$JS.ACK...</c> reply subject (acks are buffered and go out
/// whenever the client would otherwise wait, so a trickle is acked at once, a burst in one write).
/// <para>
/// A request waits with <c>expires</c> = the time left and, when that is long enough, <c>idle_heartbeat</c> = a
/// quarter of it (the server allows at most half): while it is pending with nothing to deliver, the server sends
/// status 100 every heartbeat. The request ends on a status for its own subject: 408 (expired; for no_wait also
/// "Requests Pending"), 404 (no_wait, nothing there), 409 (refused or cut short: max waiting, leadership change
/// and the like: a new request follows while time is left); anything else throws. It also ends by our clock
/// when its expiry has passed: nats-server 2.9.10 sometimes sends that 408 late or not at all (seen: none 250 ms
/// after the expiry, once or twice in a 10 s run at 1,000 msg/s), and every ms spent waiting for it is a gap in
/// delivery (the old wait of expiry + 1 s put 2 s stalls into (d)). It is presumed lost when two heartbeats and a
/// grace pass in silence: a new request follows at once. Messages and statuses of an earlier request still
/// arrive on this connection and are handled (messages delivered and acked, statuses ignored), so a request
/// given up on that was only late costs nothing.
/// </para>
/// </summary>
internal sealed class NatsConsumer(NatsClient client, string stream, string group) : IConsumerClient
{
    // How late a server reply may be on two busy cores before we stop waiting for it.
    private const int GraceMs = 250;
    // Below this wait, no heartbeats: they would come every few ms and say nothing the expiry does not.
    private const int MinHeartbeatWaitMs = 200;
    // no_wait has no expiry to go by: the server answers at once (messages, then 408; or 404), so this is generous.
    private const int NoWaitSilenceMs = 1000;
    private readonly byte[] _next = Encoding.ASCII.GetBytes($"$JS.API.CONSUMER.MSG.NEXT.{stream}.{group}");
    private int _pulls, _presumedLost, _refused, _heartbeats;

    /// <summary>Done: batch full, or a 404/408 for it; Expired: its time passed by our clock; Refused: 409; Lost: silence.</summary>
    private enum PullEnd { Done, Expired, Refused, Lost }

    public int FetchAndAck(int maxMessages, int maxBytes, int waitMs, MessageSink sink)
    {
        var fetchEnds = Stopwatch.GetTimestamp() + waitMs * Stopwatch.Frequency / 1000;
        var received = 0;
        while (received < maxMessages)
        {
            var leftMs = MsUntil(fetchEnds);
            if (waitMs > 0 && leftMs <= 0)
                break;
            var end = Pull(maxMessages, waitMs > 0 ? leftMs : 0, sink, ref received);
            if (end is PullEnd.Done or PullEnd.Expired || waitMs == 0)
                break;
            if (end == PullEnd.Refused)
                Thread.Sleep(1); // a refused request is not repeated in a tight loop
        }
        client.Flush();
        return received;
    }

    /// <summary>One request for the rest of the batch, waiting <paramref name="waitMs"/> (0: no_wait); how it ended.</summary>
    private PullEnd Pull(int maxMessages, int waitMs, MessageSink sink, ref int received)
    {
        var inbox = Encoding.ASCII.GetBytes($"{client.Inbox}.p{++_pulls}");
        var heartbeatMs = waitMs >= MinHeartbeatWaitMs ? waitMs / 4 : 0;
        // Durations in nanoseconds.
        var request = waitMs == 0 ? $"{{\"batch\":{maxMessages - received},\"no_wait\":true}}"
            : heartbeatMs == 0 ? $"{{\"batch\":{maxMessages - received},\"expires\":{waitMs * 1_000_000L}}}"
            : $"{{\"batch\":{maxMessages - received},\"expires\":{waitMs * 1_000_000L},\"idle_heartbeat\":{heartbeatMs * 1_000_000L}}}";
        client.Publish(_next, inbox, Encoding.ASCII.GetBytes(request));
        var sent = Stopwatch.GetTimestamp();
        // The server starts the expiry when the request reaches it, a little after this: over by then at the latest.
        var expiredAt = waitMs == 0 ? long.MaxValue : sent + waitMs * Stopwatch.Frequency / 1000;
        var silenceTicks = (heartbeatMs > 0 ? 2 * heartbeatMs + GraceMs : waitMs == 0 ? NoWaitSilenceMs : waitMs) * Stopwatch.Frequency / 1000;
        var lastHeard = sent;
        while (received < maxMessages)
        {
            var expiresFirst = expiredAt <= lastHeard + silenceTicks;
            if (!client.TryNext(MsUntil(expiresFirst ? expiredAt : lastHeard + silenceTicks), out var m))
            {
                _presumedLost += expiresFirst ? 0 : 1;
                return expiresFirst ? PullEnd.Expired : PullEnd.Lost;
            }
            lastHeard = Stopwatch.GetTimestamp();
            if (m.Status == 100)
            {
                _heartbeats++;
                if (!m.Reply.IsEmpty)
                    client.Publish(m.Reply, default, default); // flow control asks for an empty reply
                continue;
            }
            if (m.Status != 0)
            {
                if (!m.Subject.SequenceEqual(inbox))
                    continue; // the end of an earlier request
                if (m.Status is 404 or 408)
                    return PullEnd.Done;
                if (m.Status == 409)
                {
                    _refused++;
                    return PullEnd.Refused;
                }
                throw new IOException($"nats: pull request on {stream}.{group} answered {m.StatusLine()}");
            }
            if (!m.Reply.StartsWith("$JS.ACK."u8))
                continue;
            sink(m.Payload);
            client.Publish(m.Reply, default, "+ACK"u8);
            received++;
        }
        return PullEnd.Done; // the batch is full (a request still pending delivers to the next fetch)
    }

    /// <summary>Whole milliseconds until <paramref name="timestamp"/>, rounded up (a wait never ends before it), 0 if past.</summary>
    private static int MsUntil(long timestamp) =>
        (int)Math.Max(0, (timestamp - Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000 - 1) * 1000 / Stopwatch.Frequency);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("BENCH_DEBUG") is not null)
            Console.Error.WriteLine($"nats consumer {group}: {_pulls} pull requests, {_presumedLost} presumed lost, {_refused} refused (409), {_heartbeats} heartbeats");
        client.Dispose();
    }
}
