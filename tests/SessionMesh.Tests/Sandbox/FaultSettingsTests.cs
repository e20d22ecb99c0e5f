using SessionMesh.Server;
using SessionMesh.Server.Sandbox;

namespace SessionMesh.Tests.Sandbox;

/// <summary>The <c>--faults</c> spec: what parses, and the message each bad form gets.</summary>
public sealed class FaultSettingsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Nothing_means_no_faults(string? spec)
    {
        Assert.Equal(FaultSettings.None, FaultSettings.Parse(spec));
        Assert.Equal("none", FaultSettings.Parse(spec).ToString());
    }

    [Fact]
    public void Every_kind_parses()
    {
        var faults = FaultSettings.Parse("5xx=0.1,401=0.02,429=0.5,latency=20ms-200ms,drop-stream=0.05");

        Assert.Equal(0.1, faults.ServerError);
        Assert.Equal(0.02, faults.Unauthorized);
        Assert.Equal(0.5, faults.TooManyRequests);
        Assert.Equal(TimeSpan.FromMilliseconds(20), faults.Latency.Min);
        Assert.Equal(TimeSpan.FromMilliseconds(200), faults.Latency.Max);
        Assert.Equal(0.05, faults.DropStream);
        Assert.Equal("5xx=0.1,401=0.02,429=0.5,latency=20ms-200ms,drop-stream=0.05", faults.ToString());
    }

    [Theory]
    [InlineData("latency=50ms", 50, 50, "latency=50ms")]
    [InlineData("latency=1.5s", 1500, 1500, "latency=1500ms")]
    [InlineData("latency=0.5s-2s", 500, 2000, "latency=500ms-2000ms")]
    [InlineData("latency=0", 0, 0, "none")]
    [InlineData(" LATENCY = 20ms - 30ms ", 20, 30, "latency=20ms-30ms")]
    public void Latency_is_one_duration_or_a_range(string spec, int min, int max, string written)
    {
        var faults = FaultSettings.Parse(spec);

        Assert.Equal(TimeSpan.FromMilliseconds(min), faults.Latency.Min);
        Assert.Equal(TimeSpan.FromMilliseconds(max), faults.Latency.Max);
        Assert.Equal(written, faults.ToString());
    }

    [Theory]
    [InlineData("5xx=1", 1.0)]
    [InlineData("5xx=0", 0.0)]
    [InlineData("5xx=.25", 0.25)]
    [InlineData(" 5xx = 0.1 ,", 0.1)]
    public void Rates_are_numbers_from_0_to_1(string spec, double rate) =>
        Assert.Equal(rate, FaultSettings.Parse(spec).ServerError);

    [Fact]
    public void Drop_stream_may_be_written_with_an_underscore() =>
        Assert.Equal(1.0, FaultSettings.Parse("drop_stream=1").DropStream);

    [Theory]
    [InlineData("5xx", "5xx", "'5xx' is not KIND=VALUE")]
    [InlineData("=0.1", "=0.1", "'=0.1' is not KIND=VALUE")]
    [InlineData("500=0.1", "500", "unknown fault '500'")]
    [InlineData("5xx=0.1,dropstream=0.1", "dropstream", "unknown fault 'dropstream'")]
    [InlineData("5xx=abc", "5xx", "'5xx=abc': 5xx must be a rate from 0 to 1")]
    [InlineData("5xx=10%", "5xx", "'5xx=10%': 5xx must be a rate from 0 to 1")]
    [InlineData("401=1.5", "401", "'401=1.5': 401 must be a rate from 0 to 1")]
    [InlineData("429=-0.1", "429", "'429=-0.1': 429 must be a rate from 0 to 1")]
    [InlineData("drop-stream=NaN", "drop-stream", "'drop-stream=NaN': drop-stream must be a rate")]
    [InlineData("5xx=", "5xx", "'5xx=': 5xx must be a rate")]
    [InlineData("latency=50", "latency", "'latency=50': latency must be a duration like 50ms")]
    [InlineData("latency=fast", "latency", "'latency=fast': latency must be a duration")]
    [InlineData("latency=-5ms", "latency", "'latency=-5ms': latency must be a duration")]
    [InlineData("latency=20ms-", "latency", "'latency=20ms-': latency must be a duration")]
    [InlineData("latency=200ms-20ms", "latency", "'latency=200ms-20ms': the lower bound of latency is above its upper bound")]
    [InlineData("latency=301s", "latency", "'latency=301s': latency can be at most 300s")]
    [InlineData("5xx=0.1,5xx=0.2", "5xx", "'5xx=0.2': 5xx is given twice")]
    public void A_bad_spec_names_the_bad_part(string spec, string field, string message)
    {
        var error = Assert.Throws<FaultSpecException>(() => FaultSettings.Parse(spec));

        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_bad_spec_stops_the_server_with_one_line_naming_it()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => ServerHost.Build(new ServeSettings { Sandbox = true, Faults = "5xx=0.1,latency=fast" }));

        Assert.Equal("invalid --faults: 'latency=fast': latency must be a duration like 50ms or 1s, or a range like 20ms-200ms.", error.Message);
    }

    [Fact]
    public void Faults_need_sandbox_mode()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => ServerHost.Build(new ServeSettings { Faults = "5xx=0.1" }));
        Assert.Contains("--faults needs --sandbox", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sandbox_mode_refuses_a_store_of_its_own()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => ServerHost.Build(new ServeSettings { Sandbox = true, DataDir = "somewhere" }));
        Assert.Contains("leave out --store and --data-dir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_seed_is_refused()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => ServerHost.Build(new ServeSettings { Sandbox = true, ConfigurationArgs = ["--Sandbox:Seed=abc"] }));
        Assert.Equal("Sandbox:Seed must be a whole number, not 'abc'.", error.Message);
    }
}
