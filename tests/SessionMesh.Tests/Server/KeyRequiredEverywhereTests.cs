using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Server.Auth;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// The server's own key check (not ASP.NET Core's authorization middleware, whose start-up check for it is off) covers
/// every endpoint the server maps: each one that requires a key, found by its metadata, answers a request without one
/// 401 <c>missing_key</c>, and every API endpoint requires one unless it says it takes none.
/// </summary>
public sealed class KeyRequiredEverywhereTests
{
    [Fact]
    public async Task Every_endpoint_that_requires_a_key_refuses_a_request_without_one()
    {
        await using var server = await MeshTestServer.StartAsync();
        var endpoints = server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var guarded = endpoints.Where(e => e.Metadata.GetMetadata<IAuthorizeData>() is not null && e.Metadata.GetMetadata<IAllowAnonymous>() is null).ToList();
        var api = endpoints.Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith("api/session-mesh", StringComparison.Ordinal) ?? false).ToList();

        // Every API endpoint but the few that say they take no key; a lost RequireAuthorization() would show here.
        Assert.All(api.Except(guarded), e => Assert.NotNull(e.Metadata.GetMetadata<IAllowAnonymous>()));
        Assert.True(guarded.Count > 40, $"Only {guarded.Count} endpoints require a key.");

        using var anonymous = server.CreateClient("");
        foreach (var endpoint in guarded)
        {
            var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is [var first, ..] ? first : "GET";
            var reply = await anonymous.SendReplyAsync(new HttpMethod(method), PathOf(endpoint.RoutePattern), method is "GET" or "DELETE" ? null : "{}");
            Assert.True(reply.Status == HttpStatusCode.Unauthorized && reply.Code == "missing_key",
                $"{method} {endpoint.RoutePattern.RawText} without a key answered {(int)reply.Status}: {reply.Body}");
        }
    }

    [Fact]
    public async Task An_endpoint_asking_for_a_policy_is_refused_even_to_a_valid_key()
    {
        var served = 0;
        var check = new KeyAuthorization(_ => { served++; return Task.CompletedTask; });
        var endpoint = new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(new AuthorizeAttribute("admins")), "GET /policed");
        var keyed = new DefaultHttpContext { User = MeshIdentity.PrincipalOf(new MeshCaller("k1", "default", MeshScopes.Admin, null, null)) };
        keyed.SetEndpoint(endpoint);
        var anonymous = new DefaultHttpContext();
        anonymous.SetEndpoint(endpoint);

        await Assert.ThrowsAsync<InvalidOperationException>(() => check.InvokeAsync(keyed));
        await Assert.ThrowsAsync<InvalidOperationException>(() => check.InvokeAsync(anonymous));
        Assert.Equal(0, served);

        // The requirement the server does know, a valid key, lets the key through.
        var plain = new DefaultHttpContext { User = keyed.User };
        plain.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(new AuthorizeAttribute()), "GET /keyed"));
        await check.InvokeAsync(plain);
        Assert.Equal(1, served);
    }

    // A concrete path for a route: each parameter filled with a value its constraints accept.
    private static string PathOf(RoutePattern pattern) => string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
    {
        RoutePatternLiteralPart literal => literal.Content,
        RoutePatternParameterPart parameter => parameter.ParameterPolicies.Count > 0 ? "1" : "x",
        _ => "",
    }))));
}
