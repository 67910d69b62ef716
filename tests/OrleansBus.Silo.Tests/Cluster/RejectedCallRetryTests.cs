using OrleansBus.Contracts.Grains;

namespace OrleansBus.Silo.Tests.Cluster;

public sealed class RejectedCallRetryTests
{
    [Fact]
    public async Task A_call_rejected_before_delivery_is_sent_again_until_it_answers()
    {
        var calls = 0;
        var answer = await RejectedCallRetry.RunAsync(() =>
            ++calls <= 3 ? throw Rejection("Unable to connect to endpoint") : Task.FromResult(42));
        Assert.Equal(42, answer);
        Assert.Equal(4, calls);
    }

    [Fact]
    public async Task Any_other_failure_is_passed_on_at_once()
    {
        var calls = 0;
        await Assert.ThrowsAsync<TimeoutException>(() => RejectedCallRetry.RunAsync<int>(() =>
        {
            calls++;
            throw new TimeoutException("the grain may have applied it");
        }));
        Assert.Equal(1, calls); // a timeout's outcome is unknown: never sent twice
    }

    [Fact]
    public async Task Rejections_past_the_budget_reach_the_caller()
    {
        var calls = 0;
        await Assert.ThrowsAsync<OrleansMessageRejectionException>(() => RejectedCallRetry.RunAsync<int>(() =>
        {
            calls++;
            throw Rejection("still unreachable");
        }, budget: TimeSpan.FromMilliseconds(300)));
        Assert.InRange(calls, 2, 10); // retried, and then given up
    }

    [Fact]
    public async Task A_narrower_rule_retries_only_what_it_accepts()
    {
        var calls = 0;
        // SiloUnavailableException is a rejection too, but the silo may have run the call: not retried under NeverDelivered.
        await Assert.ThrowsAsync<Orleans.Runtime.SiloUnavailableException>(() => RejectedCallRetry.RunAsync<int>(() =>
        {
            calls++;
            throw new Orleans.Runtime.SiloUnavailableException("went away mid-call");
        }, retryable: RejectedCallRetry.NeverDelivered));
        Assert.Equal(1, calls);

        calls = 0;
        var answer = await RejectedCallRetry.RunAsync(() =>
            ++calls == 1 ? throw Rejection("Unable to connect to endpoint") : Task.FromResult(7), retryable: RejectedCallRetry.NeverDelivered);
        Assert.Equal((7, 2), (answer, calls));
    }

    // Orleans creates these itself (its constructors are not public); the test makes one the same way it would arrive.
    private static OrleansMessageRejectionException Rejection(string message) =>
        (OrleansMessageRejectionException)Activator.CreateInstance(typeof(OrleansMessageRejectionException),
            System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public,
            binder: null, args: [message], culture: null)!;
}
