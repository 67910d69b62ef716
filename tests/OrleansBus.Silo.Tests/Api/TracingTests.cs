using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace OrleansBus.Silo.Tests.Api;

/// <summary>
/// A produce that arrives with a W3C <c>traceparent</c> continues that trace in the silo: ASP.NET Core's request span and
/// our <c>orleansbus.append</c> span (the writer) carry the caller's trace id, the append under the request.
/// </summary>
public sealed class TracingTests(SiloApiFactory factory) : IClassFixture<SiloApiFactory>, IDisposable
{
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener = new();

    private void Listen()
    {
        _listener.ShouldListenTo = source => source.Name is "OrleansBus" or "Microsoft.AspNetCore";
        _listener.Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded;
        _listener.ActivityStopped = _stopped.Add;
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task A_produce_with_a_traceparent_gives_a_request_span_and_an_append_span_in_the_callers_trace()
    {
        Listen();
        using var client = factory.CreateClient();
        var c = SiloHttp.NewCategory("traced");
        var traceId = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/categories/{c}/messages") { Content = new StringContent("t\n") };
        request.Headers.Add("traceparent", $"00-{traceId}-{parent}-01");

        using var response = await client.SendAsync(request);
        await SiloHttp.AssertStatusAsync(response, HttpStatusCode.OK);

        Activity? append = null;
        for (var i = 0; i < 50 && append is null; i++)
        {
            append = _stopped.FirstOrDefault(a => a.OperationName == "orleansbus.append" && (string?)a.GetTagItem("orleansbus.category") == c);
            if (append is null)
                await Task.Delay(20);
        }
        Assert.NotNull(append);
        Assert.Equal(traceId, append.TraceId);
        Assert.Equal("Ok", append.GetTagItem("orleansbus.status"));
        var server = _stopped.Single(a => a.Source.Name == "Microsoft.AspNetCore" && a.TraceId == traceId);
        Assert.Equal(parent, server.ParentSpanId); // the caller's span
        Assert.Equal(server.SpanId, append.ParentSpanId); // the writer under the request
    }

    public void Dispose() => _listener.Dispose();
}
