using System.Net;
using System.Net.Sockets;
using OrleansBus.Client;

namespace OrleansBus.IntegrationTests.Client;

/// <summary>
/// A producer holds at most MaxPendingBytes: against a server that accepts connections but never answers, sends
/// complete at once until the limit, then wait; when the stuck batch times out, the waiting send reports it.
/// </summary>
public sealed class BackPressureTests
{
    [Fact]
    public async Task SendAsync_waits_once_MaxPendingBytes_are_unacknowledged_and_then_reports_the_failed_batch()
    {
        // The kernel completes the handshake and buffers the request; nobody ever reads or answers it.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await using var client = ClientSilo.NewClient(o => o.RequestTimeout = TimeSpan.FromSeconds(1), endpoint);
        var producer = client.CreateProducer("stalled", new BusProducerOptions
        {
            MaxBatchBytes = 1024,
            MaxPendingBytes = 4096,
            LingerTime = TimeSpan.Zero,
        });
        var message = new string('m', 99); // 100 bytes with its newline

        for (var n = 0; n < 40; n++)
            Assert.True(CompletedAtOnce(producer.SendAsync(message)), $"Send {n} waited with only {producer.PendingBytes} bytes pending.");
        var blocked = producer.SendAsync(message).AsTask();
        await Task.Delay(200); // bounded: long enough to see that nothing frees room while the server stalls
        Assert.False(blocked.IsCompleted, "The 41st send (4,100 bytes pending, limit 4,096) did not wait for room.");
        Assert.Equal(4000, producer.PendingBytes);

        // The first batch times out after 1 s; its failure frees room and the waiting send reports it.
        await Assert.ThrowsAsync<BusTimeoutException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(producer.FailedMessages > 0);
        await Assert.ThrowsAnyAsync<BusException>(async () => await producer.DisposeAsync());
        Assert.Equal(40, producer.FailedMessages);
    }

    private static bool CompletedAtOnce(ValueTask send)
    {
        if (send.IsCompletedSuccessfully)
            return true;
        _ = send.AsTask(); // consumed once; the assertion reports the wait
        return false;
    }
}
