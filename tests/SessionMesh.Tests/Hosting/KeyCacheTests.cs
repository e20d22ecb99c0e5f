using Microsoft.Extensions.Time.Testing;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;
using SessionMesh.Store.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Hosting;

/// <summary>
/// The key cache over a real SQLite store that counts its reads: a valid key is authenticated from memory after one
/// read, what the mesh writes to the cache is seen at once, and what it does not know is read from the store.
/// </summary>
public sealed class KeyCacheTests : IAsyncLifetime
{
    private const string GetKey = nameof(IMeshStore.GetKeyAsync);
    private const int Requests = 50;

    private static readonly DateTimeOffset s_start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(s_start);
    private SqliteMeshStore _sqlite = null!;
    private CountingMeshStore _counter = null!;
    private KeyCache _cache = null!;
    private KeyAuthenticator _authenticator = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _sqlite = new SqliteMeshStore(Path.Combine(_temp.Path, "mesh.db"));
        await _sqlite.MigrateAsync(Ct);
        (var store, _counter) = CountingMeshStore.Wrap(_sqlite);
        _cache = new KeyCache(store);
        _authenticator = new KeyAuthenticator(_cache, _time);
    }

    public async ValueTask DisposeAsync()
    {
        await _sqlite.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task A_valid_key_authenticated_many_times_is_read_from_the_store_once()
    {
        var (key, token) = await InsertAsync("key_0000000000000001");

        for (var i = 0; i < Requests; i++)
        {
            var (caller, failure) = await _authenticator.AuthenticateAsync(token, Ct);
            Assert.Equal(AuthFailure.None, failure);
            Assert.Equal(key.KeyId, caller!.KeyId);
        }

        Assert.Equal(1, _counter.Calls(GetKey));
    }

    [Fact]
    public async Task A_root_key_of_any_shape_is_read_from_the_store_once()
    {
        const string secret = "any string at all, set through the environment";
        await InsertRootAsync(secret);

        for (var i = 0; i < Requests; i++)
        {
            Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync(secret, Ct)).Failure);
            // A wrong token is compared with the root key too: still from memory.
            Assert.Equal(AuthFailure.InvalidKey, (await _authenticator.AuthenticateAsync("not the root key", Ct)).Failure);
        }

        Assert.Equal(1, _counter.Calls(GetKey));
    }

    [Fact]
    public async Task A_wrong_secret_for_a_known_key_id_is_refused_from_memory()
    {
        var (key, token) = await InsertAsync("key_0000000000000002");
        await InsertRootAsync("root secret");
        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync("root secret", Ct)).Failure);
        var reads = _counter.Calls(GetKey);

        var forged = KeySecrets.NewToken(key.KeyId);

        Assert.Equal(AuthFailure.InvalidKey, (await _authenticator.AuthenticateAsync(forged, Ct)).Failure);
        Assert.Equal(reads, _counter.Calls(GetKey));
    }

    [Fact]
    public async Task A_key_written_to_the_cache_after_its_commit_is_refused_at_once_without_a_read()
    {
        var (key, token) = await InsertAsync("key_0000000000000003");
        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);

        _cache.Set(key with { RevokedAt = s_start });

        Assert.Equal(AuthFailure.KeyRevoked, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
        Assert.Equal(1, _counter.Calls(GetKey));
    }

    [Fact]
    public async Task Expiry_is_checked_against_the_clock_at_each_authentication()
    {
        var (_, token) = await InsertAsync("key_0000000000000004", expiresAt: s_start.AddMinutes(1));
        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);

        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(AuthFailure.KeyExpired, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
        Assert.Equal(1, _counter.Calls(GetKey));
    }

    [Fact]
    public async Task An_unknown_key_id_is_not_remembered_so_a_key_inserted_later_is_found()
    {
        await InsertRootAsync("root secret");
        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync("root secret", Ct)).Failure);
        var keyId = "key_0000000000000005";
        var token = KeySecrets.NewToken(keyId);

        Assert.Equal(AuthFailure.InvalidKey, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
        Assert.Equal(AuthFailure.InvalidKey, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
        // One read of the root key, then one of the unknown id per attempt: a miss takes no memory.
        Assert.Equal(3, _counter.Calls(GetKey));

        await InsertAsync(keyId, token);

        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
    }

    [Fact]
    public async Task An_invalidated_key_is_read_from_the_store_again()
    {
        var (key, token) = await InsertAsync("key_0000000000000006");
        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
        // Another server revokes it: the store changes behind this cache, and its signal says which key.
        await UpsertAsync(key with { RevokedAt = s_start });
        Assert.Equal(AuthFailure.None, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);

        _cache.Invalidate(key.KeyId);

        Assert.Equal(AuthFailure.KeyRevoked, (await _authenticator.AuthenticateAsync(token, Ct)).Failure);
        Assert.Equal(2, _counter.Calls(GetKey));
    }

    private Task<(ApiKeyRecord Key, string Token)> InsertAsync(string keyId, DateTimeOffset? expiresAt = null) =>
        InsertAsync(keyId, KeySecrets.NewToken(keyId), expiresAt);

    [Fact]
    public async Task Keys_that_ended_before_the_cutoff_are_forgotten_and_read_from_the_store_at_their_next_use()
    {
        var (expired, _) = await InsertAsync("key_0000000000000011", "sm_expired_0000000000000011", s_start.AddMinutes(1));
        var (live, _) = await InsertAsync("key_0000000000000012", "sm_live_00000000000000012", s_start.AddHours(2));
        var revoked = await InsertAsync("key_0000000000000013", "sm_revoked_0000000000000013", s_start.AddHours(2));
        _cache.Set(revoked.Key with { RevokedAt = s_start.AddMinutes(2) });
        await _cache.GetAsync(expired.KeyId, Ct);
        await _cache.GetAsync(live.KeyId, Ct);
        var readsBefore = _counter.Calls(GetKey);

        // Ended after the cutoff: nothing to forget yet.
        Assert.Empty(_cache.ForgetEnded(s_start));
        Assert.Equal([expired.KeyId, revoked.Key.KeyId], _cache.ForgetEnded(s_start.AddMinutes(30)).Order(StringComparer.Ordinal));

        Assert.Equal(expired.KeyId, (await _cache.GetAsync(expired.KeyId, Ct))!.KeyId);
        Assert.Equal(readsBefore + 1, _counter.Calls(GetKey));
        await _cache.GetAsync(live.KeyId, Ct);
        Assert.Equal(readsBefore + 1, _counter.Calls(GetKey));
    }

    private async Task<(ApiKeyRecord Key, string Token)> InsertAsync(string keyId, string token, DateTimeOffset? expiresAt = null)
    {
        var key = new ApiKeyRecord(keyId, KeySecrets.Hash(token), "default", MeshScopes.Read, null, "test", s_start, expiresAt ?? s_start.AddHours(1), null, null, null);
        await UpsertAsync(key);
        return (key, token);
    }

    private Task InsertRootAsync(string secret) =>
        UpsertAsync(new ApiKeyRecord(ApiKeyRecord.RootKeyId, KeySecrets.Hash(secret), "default", MeshScopes.Admin, null, "root", s_start, null, null, null, null));

    /// <summary>Writes straight to the store, past the cache, as another path or another server would.</summary>
    private async Task UpsertAsync(ApiKeyRecord key)
    {
        await using var tx = await _sqlite.BeginWriteAsync(Ct);
        await tx.UpsertKeyAsync(key, Ct);
        await tx.CommitAsync(Ct);
    }
}
