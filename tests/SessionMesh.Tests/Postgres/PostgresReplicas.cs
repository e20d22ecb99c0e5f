using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>Helpers for tests that run <c>serve</c> processes on one PostgreSQL database.</summary>
public static class PostgresReplicas
{
    /// <summary>An HTTP client of one replica, authenticated with <paramref name="key"/>.</summary>
    public static HttpClient ClientFor(string address, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TestTimeouts.Request };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }
}
