using System.Text;

namespace OrleansBus.Benchmarks.Compare;

/// <summary>
/// A pull-consumer member: one <c>$JS.API.CONSUMER.MSG.NEXT.&lt;stream&gt;.&lt;durable&gt;</c> request per fetch
/// (<c>batch</c> messages, <c>expires</c> = the wait), each delivered message handed to the sink and acknowledged
/// with <c>+ACK</c> to its <c>$JS.ACK...</c> reply subject. Acks are buffered and go out whenever the client would
/// otherwise wait for the server (so a steady trickle is acked at once, a burst in one write). The fetch ends when
/// the batch is full or the server closes the request with a status (408 expired, 404 none). Without a wait the
/// request is <c>no_wait</c> (what is there, then a status). nats-server 2.9 lets a request that expires in the
/// middle of a delivery end without any status, so a fetch also ends after its wait plus a second without input.
/// </summary>
internal sealed class NatsConsumer(NatsClient client, string stream, string group) : IConsumerClient
{
    private readonly byte[] _next = Encoding.ASCII.GetBytes($"$JS.API.CONSUMER.MSG.NEXT.{stream}.{group}");
    private int _pulls;

    public int FetchAndAck(int maxMessages, int maxBytes, int waitMs, MessageSink sink)
    {
        var inbox = Encoding.ASCII.GetBytes($"{client.Inbox}.p{++_pulls}");
        // expires is in nanoseconds.
        var request = waitMs > 0 ? $"{{\"batch\":{maxMessages},\"expires\":{waitMs * 1_000_000L}}}" : $"{{\"batch\":{maxMessages},\"no_wait\":true}}";
        client.Publish(_next, inbox, Encoding.ASCII.GetBytes(request));
        client.Flush();
        var received = 0;
        while (received < maxMessages && client.WaitReadable(waitMs + 1000))
        {
            var m = client.Next();
            if (m.Status != 0)
            {
                if (m.Subject.SequenceEqual(inbox))
                    break; // this request is over
                continue; // a late status of an earlier request
            }
            if (!m.Reply.StartsWith("$JS.ACK."u8))
                continue;
            sink(m.Payload);
            client.Publish(m.Reply, default, "+ACK"u8);
            received++;
        }
        client.Flush();
        return received;
    }

    public void Dispose() => client.Dispose();
}
