using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// How the server reads the <c>Authorization</c> header: the <c>Bearer</c> scheme in any case, the key trimmed;
/// another scheme, a key glued to the scheme, or more than one header, is an invalid key; the scheme alone is a missing key.
/// </summary>
public sealed class AuthorizationHeaderTests
{
    private const string KeysSelf = "api/session-mesh/keys/self";

    private static async Task<Reply> SendAsync(MeshTestServer server, params string[] authorization)
    {
        using var client = server.CreateClient("");
        using var request = new HttpRequestMessage(HttpMethod.Get, KeysSelf);
        foreach (var value in authorization)
        {
            request.Headers.TryAddWithoutValidation("Authorization", value);
        }
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return await Reply.ReadAsync(response);
    }

    [Fact]
    public async Task The_bearer_scheme_is_read_in_any_case_with_the_key_trimmed()
    {
        await using var server = await MeshTestServer.StartAsync();
        (await SendAsync(server, "Bearer " + server.RootKey)).Expect(HttpStatusCode.OK);
        (await SendAsync(server, "bearer " + server.RootKey)).Expect(HttpStatusCode.OK);
        (await SendAsync(server, "BEARER   " + server.RootKey + "  ")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Another_scheme_or_two_headers_are_an_invalid_key_and_an_empty_bearer_a_missing_one()
    {
        await using var server = await MeshTestServer.StartAsync();
        (await SendAsync(server, "Basic " + Convert.ToBase64String("root:secret"u8))).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        (await SendAsync(server, server.RootKey)).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        (await SendAsync(server, "Bearer" + server.RootKey)).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        // Longer than the stack buffer its hash is computed in.
        (await SendAsync(server, "Bearer sm_x." + new string('A', 4000))).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        (await SendAsync(server, "Bearer " + server.RootKey, "Bearer " + server.RootKey)).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        (await SendAsync(server, "Bearer ")).ExpectProblem(HttpStatusCode.Unauthorized, "missing_key");
        (await SendAsync(server)).ExpectProblem(HttpStatusCode.Unauthorized, "missing_key");
    }
}
