using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Endpoints;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Sandbox;

/// <summary><c>GET</c> and <c>PUT /api/session-mesh/sandbox/faults</c>: the fault rates, read and changed at run time (admin). Mapped in sandbox mode only.</summary>
internal static partial class SandboxEndpoints
{
    /// <summary>Where the sandbox's own endpoints sit; faults are never injected there.</summary>
    public const string Prefix = ServerHost.ApiPrefix + "/sandbox";

    /// <summary>True for the requests faults apply to: the API, except the sandbox endpoints.</summary>
    public static bool IsFaultable(PathString path) =>
        path.StartsWithSegments(ServerHost.ApiPrefix) && !path.StartsWithSegments(Prefix);

    public static RouteGroupBuilder MapSandbox(this RouteGroupBuilder api)
    {
        var sandbox = api.MapGroup("/sandbox").WithTags("Sandbox");
        sandbox.MapGet("/faults", Get).WithSummary("Sandbox mode only: the fault rates in force (admin).").ProducesProblems(Status403Forbidden);
        sandbox.MapPut("/faults", Put).WithSummary("Sandbox mode only: replace the fault rates; a field left out is off (admin).").ProducesProblems(Status400BadRequest, Status403Forbidden, Status413PayloadTooLarge);
        return api;
    }

    private static Ok<SandboxFaultsDocument> Get(ClaimsPrincipal user, FaultInjector faults)
    {
        user.Caller().Require(MeshScopes.Admin);
        return TypedResults.Ok(SandboxFaultsDocument.From(faults.Current));
    }

    private static Ok<SandboxFaultsDocument> Put(SandboxFaultsDocument request, ClaimsPrincipal user, FaultInjector faults, ILogger<FaultInjector> logger)
    {
        var caller = user.Caller();
        caller.Require(MeshScopes.Admin);
        FaultSettings settings;
        try
        {
            settings = request.ToSettings();
        }
        catch (FaultSpecException bad)
        {
            throw MeshException.Invalid(bad.Field, bad.Message);
        }
        faults.Current = settings;
        LogChanged(logger, settings, caller.KeyId);
        return TypedResults.Ok(SandboxFaultsDocument.From(settings));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox faults set to {Faults} by key {KeyId}")]
    private static partial void LogChanged(ILogger logger, FaultSettings faults, string keyId);
}
