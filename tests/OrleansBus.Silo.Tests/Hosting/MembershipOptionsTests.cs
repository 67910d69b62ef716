using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using OrleansBus.Silo.Hosting;

namespace OrleansBus.Silo.Tests.Hosting;

/// <summary>Failure detection in seconds by default (docs/cluster.md), every field overridable under Orleans:Membership.</summary>
public sealed class MembershipOptionsTests
{
    [Fact]
    public void Defaults_detect_failures_in_seconds()
    {
        var options = new ClusterMembershipOptions();
        OrleansSetup.ConfigureMembership(options, new ConfigurationBuilder().Build());
        Assert.Equal(TimeSpan.FromSeconds(1), options.ProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.MaxProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.TableRefreshTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.IAmAliveTablePublishTimeout);
    }

    [Fact]
    public void Configuration_overrides_any_field()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection([
            new("ProbeTimeout", "00:00:04"), new("NumMissedProbesLimit", "5"),
        ]).Build();
        var options = new ClusterMembershipOptions();
        OrleansSetup.ConfigureMembership(options, section);
        Assert.Equal(TimeSpan.FromSeconds(4), options.ProbeTimeout);
        Assert.Equal(5, options.NumMissedProbesLimit);
        Assert.Equal(TimeSpan.FromSeconds(2), options.MaxProbeTimeout); // untouched fields keep our default
    }
}
