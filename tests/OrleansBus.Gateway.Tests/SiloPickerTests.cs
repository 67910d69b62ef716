using OrleansBus.Gateway.Routing;

namespace OrleansBus.Gateway.Tests;

/// <summary>Routing decisions in isolation: rendezvous hashing, least outstanding, the directory's suspicion rule.</summary>
public sealed class SiloPickerTests
{
    private static readonly string[] Keys = [.. Enumerable.Range(0, 3000).Select(i => $"key-{i}")];

    [Fact]
    public void Removing_a_silo_moves_only_the_keys_it_held_and_spreads_them()
    {
        var all = Silos("s1", "s2", "s3", "s4");
        var without = all.Where(s => s.Id != "s3").ToArray();

        var moved = new Dictionary<string, int>();
        foreach (var key in Keys)
        {
            var before = SiloPicker.PickForKey(key, all, [])!.Id;
            var after = SiloPicker.PickForKey(key, without, [])!.Id;
            if (before != "s3")
                Assert.Equal(before, after);
            else
                moved[after] = moved.GetValueOrDefault(after) + 1;
        }
        Assert.Equal(3, moved.Count); // s3's keys went to every survivor, not all to one
    }

    [Fact]
    public void A_category_writer_set_narrows_the_live_silos_and_never_empties_them()
    {
        var live = Silos("s1", "s2", "s3");
        Assert.Equal(["s1", "s3"], WriterSets.Narrow(live, ["s1", "s3", "s9"]).Select(s => s.Id));
        // The set and the directory share no silo (one of them a moment behind): every live silo stays a candidate.
        Assert.Equal(["s1", "s2", "s3"], WriterSets.Narrow(live, ["s7"]).Select(s => s.Id));
    }

    [Fact]
    public void Keys_spread_evenly_and_the_choice_does_not_depend_on_list_order()
    {
        var silos = Silos("alpha", "beta", "gamma");
        var reversed = silos.Reverse().ToArray();
        var counts = new Dictionary<string, int>();
        foreach (var key in Keys)
        {
            var id = SiloPicker.PickForKey(key, silos, [])!.Id;
            Assert.Equal(id, SiloPicker.PickForKey(key, reversed, [])!.Id);
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }
        Assert.All(counts.Values, c => Assert.InRange(c, 800, 1200)); // 1000 each when perfectly even
        Assert.Equal(3, counts.Count);
    }

    [Fact]
    public void A_keyed_retry_goes_to_the_next_heaviest_silo()
    {
        var silos = Silos("s1", "s2", "s3");
        var first = SiloPicker.PickForKey("order-7", silos, [])!;
        var second = SiloPicker.PickForKey("order-7", silos, [first])!;
        Assert.NotEqual(first, second);
        Assert.Equal(second.Id, SiloPicker.PickForKey("order-7", silos.Where(s => s != first).ToArray(), [])!.Id);
        Assert.Null(SiloPicker.PickForKey("order-7", silos, silos));
    }

    [Fact]
    public void Least_outstanding_prefers_the_idlest_and_rotates_among_equals()
    {
        var silos = Silos("s1", "s2", "s3");
        var picker = new SiloPicker();
        silos[0].Enter();
        silos[0].Enter();
        silos[1].Enter();
        for (var i = 0; i < 5; i++)
            Assert.Same(silos[2], picker.PickLeastOutstanding(silos, []));
        Assert.Same(silos[1], picker.PickLeastOutstanding(silos, [silos[2]]));

        silos[0].Exit();
        silos[0].Exit();
        silos[1].Exit();
        var chosen = Enumerable.Range(0, 9).Select(_ => picker.PickLeastOutstanding(silos, [])!.Id).ToHashSet();
        Assert.Equal(3, chosen.Count); // all idle: ties rotate instead of always picking the first
        Assert.Null(picker.PickLeastOutstanding([], []));
    }

    [Fact]
    public void A_silo_marked_unreachable_stays_out_until_evidence_newer_than_the_failure()
    {
        var time = new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));
        var directory = new SiloDirectory(time);
        var a = new Uri("http://127.0.0.1:1/");
        var b = new Uri("http://127.0.0.1:2/");
        directory.Apply([new("a", a, true, 999_000), new("b", b, true, 999_000)]);
        Assert.Equal(2, directory.Live.Count);
        var entryA = directory.All.Single(s => s.Id == "a");
        entryA.Enter(); // counters survive refreshes

        directory.MarkUnreachable(entryA);
        Assert.Equal(["b"], directory.Live.Select(s => s.Id));

        directory.Apply([new("a", a, true, 999_500), new("b", b, true, 999_500)]); // heartbeat older than the failure
        Assert.Equal(["b"], directory.Live.Select(s => s.Id));

        directory.Apply([new("a", a, true, 1_000_001), new("b", b, true, 1_000_001)]);
        Assert.Equal(["a", "b"], directory.Live.Select(s => s.Id));
        Assert.Same(entryA, directory.All.Single(s => s.Id == "a"));
        Assert.Equal(1, entryA.Outstanding);

        directory.Apply([new("b", b, false, 1_000_002)]);
        Assert.Empty(directory.Live);
        Assert.Single(directory.All);
    }

    [Fact]
    public void A_silo_that_did_not_answer_in_time_stays_out_whatever_membership_says_until_it_answers_again()
    {
        var time = new ManualTime(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000));
        var directory = new SiloDirectory(time);
        var a = new Uri("http://127.0.0.1:1/");
        var b = new Uri("http://127.0.0.1:2/");
        directory.Apply([new("a", a, true, 999_000), new("b", b, true, 999_000)]);
        var entryA = directory.All.Single(s => s.Id == "a");

        directory.MarkUnresponsive(entryA);
        Assert.Equal(["b"], directory.Live.Select(s => s.Id));
        // A frozen silo is still Active in membership: fresh evidence must not bring it back.
        directory.Apply([new("a", a, true, 2_000_000), new("b", b, true, 2_000_000)]);
        Assert.Equal(["b"], directory.Live.Select(s => s.Id));

        directory.MarkResponsive(entryA); // it answered a health check
        Assert.Equal(["a", "b"], directory.Live.Select(s => s.Id));
        directory.Apply([new("a", a, true, 2_000_001), new("b", b, true, 2_000_001)]);
        Assert.Equal(["a", "b"], directory.Live.Select(s => s.Id));
    }

    private static SiloEntry[] Silos(params string[] ids) =>
        [.. ids.Select((id, i) => new SiloEntry(id, new Uri($"http://127.0.0.1:{9000 + i}/")) { IsLive = true })];

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
