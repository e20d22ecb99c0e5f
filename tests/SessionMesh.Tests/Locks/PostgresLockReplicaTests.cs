using System.Net;
using SessionMesh.Tests.Infrastructure;
using SessionMesh.Tests.Postgres;
using static SessionMesh.Tests.Locks.LockTestClient;

namespace SessionMesh.Tests.Locks;

/// <summary>Locks on two <c>serve</c> replicas (real processes) sharing one PostgreSQL database.</summary>
public sealed class PostgresLockReplicaTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Acquirers_through_both_replicas_get_one_holder_and_a_release_on_one_reaches_a_waiter_on_the_other()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 2);
        var sessions = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            sessions.Add(await replicas[i % 2].JoinAsync($"racer-{i}"));
        }

        var replies = await Task.WhenAll(sessions.Select((s, i) => replicas[i % 2].AcquireAsync("shared/db", s)));

        var won = Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.Equal(9, replies.Count(r => r.Status == HttpStatusCode.Conflict && r.Code == "lock_held"));
        var holder = won.Json.GetProperty("session_id").GetString()!;
        var holderReplica = sessions.IndexOf(holder) % 2;
        var waiterSession = sessions.First(s => sessions.IndexOf(s) % 2 != holderReplica);

        var waiting = replicas[1 - holderReplica].AcquireAsync("shared/db", waiterSession, """, "wait": 60""");
        // The holder leaves through its own replica: the release ends the other replica's wait.
        (await replicas[holderReplica].DeleteReplyAsync($"{Api}/sessions/{holder}")).Expect(HttpStatusCode.OK);

        var got = (await waiting.WaitAsync(TestTimeouts.Request, Ct)).Expect(HttpStatusCode.Created).Json;
        Assert.Equal(waiterSession, got.GetProperty("session_id").GetString());
        Assert.Equal(waiterSession, (await replicas[holderReplica].GetReplyAsync($"{Api}/locks/shared/db")).Expect(HttpStatusCode.OK).Json.GetProperty("session_id").GetString());
    }
}
