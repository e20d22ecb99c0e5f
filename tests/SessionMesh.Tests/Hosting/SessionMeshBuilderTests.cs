using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Server;
using SessionMesh.Store;
using SessionMesh.Store.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Hosting;

/// <summary>The store seam: <c>services.AddSessionMesh().UseSqlite(...)</c> without ASP.NET, and a server that must be given a store.</summary>
public sealed class SessionMeshBuilderTests
{
    private static readonly DateTimeOffset s_start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task The_mesh_runs_on_a_service_collection_with_a_sqlite_store_and_no_server()
    {
        using var temp = new TempDirectory();
        var file = Path.Combine(temp.Path, "seam", "mesh.db");
        var services = new ServiceCollection();
        // Registered first, so AddSessionMesh's TryAdd keeps them.
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(s_start));
        services.Configure<MeshOptions>(o => o.DefaultSessionTtl = 45);
        services.AddSessionMesh().UseSqlite(file);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var cancellationToken = TestContext.Current.CancellationToken;

        var store = provider.GetRequiredService<IMeshStore>();
        await store.MigrateAsync(cancellationToken);
        Assert.True(await provider.GetRequiredService<MeshMaintenance>().LeadAsync(cancellationToken));
        Assert.Null(await provider.GetRequiredService<KeyService>().EnsureRootKeyAsync("seam-root-key", cancellationToken));
        var root = await provider.GetRequiredService<KeyAuthenticator>().FindAsync("seam-root-key", cancellationToken);
        Assert.NotNull(root);
        var sessions = provider.GetRequiredService<SessionService>();

        var joined = await sessions.JoinAsync(KeyAuthenticator.ToCaller(root), new JoinRequest { AgentId = "seam-agent" }, cancellationToken);

        Assert.Equal("sqlite:" + Path.GetFullPath(file), store.ToString());
        Assert.True(File.Exists(file));
        Assert.Equal("seam-agent", joined.AgentId);
        Assert.Equal(SessionStatus.Active, joined.Status);
        Assert.Equal(45, joined.Ttl);
        Assert.Equal(s_start, joined.StartedAt);
        var read = await sessions.GetAsync(KeyAuthenticator.ToCaller(root), joined.SessionId, cancellationToken);
        Assert.Equal(joined.SessionId, read.SessionId);
    }

    [Fact]
    public async Task A_second_container_on_the_same_sqlite_file_is_refused_until_the_first_is_disposed()
    {
        using var temp = new TempDirectory();
        var file = Path.Combine(temp.Path, "mesh.db");
        await using var first = new ServiceCollection().AddSessionMesh().UseSqlite(file).Services.BuildServiceProvider();
        _ = first.GetRequiredService<IMeshStore>();
        await using var second = new ServiceCollection().AddSessionMesh().UseSqlite(file).Services.BuildServiceProvider();

        var refused = Assert.Throws<StoreLockedException>(() => second.GetRequiredService<IMeshStore>());
        Assert.Contains("Another session-mesh server is using", refused.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        Assert.Equal("sqlite:" + Path.GetFullPath(file), second.GetRequiredService<IMeshStore>().ToString());
    }

    [Fact]
    public async Task The_mesh_without_a_store_says_so()
    {
        await using var provider = new ServiceCollection().AddSessionMesh().Services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<SessionService>());

        Assert.Contains("UseSqlite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_server_refuses_to_build_without_a_store()
    {
        using var temp = new TempDirectory();

        var error = Assert.Throws<InvalidOperationException>(() => ServerHost.Build(new ServeSettings { Listen = "http://127.0.0.1:0", DataDir = temp.Path }));

        Assert.Equal(ServerHost.NoStoreMessage, error.Message);
        Assert.Contains("UseStore", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("  ")]
    public void No_store_setting_means_the_default_file_in_the_data_directory(string? setting) =>
        Assert.Equal(Path.Combine("data", "session-mesh.db"), SqliteStoreSetting.ToDataSource(setting, "data"));

    [Theory]
    [InlineData("sqlite:./x.db", "./x.db")]
    [InlineData("SQLite:/var/mesh.db", "/var/mesh.db")]
    [InlineData("Data Source=/var/mesh.db;Cache=Private", "Data Source=/var/mesh.db;Cache=Private")]
    [InlineData("mesh.db", "mesh.db")]
    public void The_store_setting_names_a_sqlite_data_source(string setting, string expected) =>
        Assert.Equal(expected, SqliteStoreSetting.ToDataSource(setting, "data"));

    [Theory]
    [InlineData("postgres://mesh@db/mesh")]
    [InlineData("Host=localhost;Database=mesh")]
    public void A_postgres_store_setting_is_not_a_sqlite_data_source(string setting)
    {
        var error = Assert.Throws<InvalidOperationException>(() => SqliteStoreSetting.ToDataSource(setting, "data"));
        Assert.Equal(SqliteStoreSetting.PostgresNotAvailable, error.Message);
        Assert.Contains("Host=", error.Message, StringComparison.Ordinal);
    }
}
