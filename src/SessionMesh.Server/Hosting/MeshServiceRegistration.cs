using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Dashboard;
using SessionMesh.Server.Endpoints;
using SessionMesh.Server.Mcp;
using SessionMesh.Server.Observability;
using SessionMesh.Server.Sandbox;
using SessionMesh.Store;

namespace SessionMesh.Server.Hosting;

/// <summary>The server's services and pipeline, in one place.</summary>
internal static class MeshServiceRegistration
{
    /// <summary>ASP.NET Core's per-request log category (request started, request finished).</summary>
    internal const string HostingRequestLogs = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>The .NET runtime's own meter (<c>dotnet.gc.collections</c>, <c>dotnet.gc.pause.time</c>, ...).</summary>
    private const string RuntimeMeterName = "System.Runtime";

    public static void AddMeshServer(this WebApplicationBuilder builder, ServeSettings settings, SandboxEnvironment? sandbox = null)
    {
        var services = builder.Services;
        services.AddOptions<MeshServerOptions>().BindConfiguration(MeshServerOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeshServerOptions>, MeshServerOptionsValidator>());
        // The limits are the mesh's (validated by Core's validator, registered by AddSessionMesh); the host binds them.
        services.AddOptions<MeshOptions>().BindConfiguration(MeshOptions.Section).ValidateOnStart();
        var serverOptions = builder.Configuration.GetSection(MeshServerOptions.Section).Get<MeshServerOptions>() ?? new MeshServerOptions();

        builder.Logging.ClearProviders();
        // Per-request framework logs drown the mesh's own; configuration (Logging:LogLevel) can raise them again.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // ASP.NET Core's hosting layer starts an Activity and a logging scope for every request whenever its own category
        // may log at all, even at Warning where it writes nothing: a fifth of a heartbeat's CPU. That category only
        // writes the request-started and request-finished lines, so it is off unless configuration names it.
        if (builder.Configuration[$"Logging:LogLevel:{HostingRequestLogs}"] is null)
        {
            builder.Logging.AddFilter(HostingRequestLogs, LogLevel.None);
        }
        // A start that fails (a port taken between serve's check and the bind) is logged by the host with the whole
        // Kestrel stack; ServerHost already says it in one line.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (settings.JsonLogs || builder.Configuration["Logging:Format"] == "json")
        {
            builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'"; o.UseUtcTimestamp = true; });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        }

        var urls = serverOptions.Listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => ListenUrl(url, "Server:Listen (--listen)")).ToList();
        if (serverOptions.OperationsListen is { Length: > 0 } operations)
        {
            urls.Add(ListenUrl(operations, "Server:OperationsListen"));
        }
        builder.WebHost.UseUrls([.. urls]);
        ConfigureHttps(builder, serverOptions, urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = serverOptions.MaxRequestBodySize;
            // Slow clients (slowloris headers, dribbled bodies) must not hold a connection and its buffers for long.
            k.Limits.RequestHeadersTimeout = serverOptions.RequestHeadersTimeout;
            k.Limits.KeepAliveTimeout = serverOptions.KeepAliveTimeout;
            k.Limits.MinRequestBodyDataRate = serverOptions.MinRequestBodyDataRate > 0
                ? new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(serverOptions.MinRequestBodyDataRate, serverOptions.MinRequestBodyDataRateGracePeriod)
                : null;
        });
        services.Configure<HostOptions>(o => o.ShutdownTimeout = serverOptions.ShutdownTimeout);

        var mesh = services.AddSessionMesh();
        // The server references no store: its host (serve, the test and bench hosts) plugs one in.
        settings.UseStore?.Invoke(mesh, serverOptions);
        services.TryAddSingleton<MeshBootstrap>();
        services.TryAddSingleton<MeshMetrics>();
        services.TryAddSingleton<StreamSlots>();
        services.TryAddSingleton<AuditWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        services.AddHostedService<LeaseSweeper>();
        services.AddHostedService<LeaseCheckpointer>();
        services.AddWebhookDelivery(sandbox is not null && settings.Sandbox);

        services.ConfigureHttpJsonOptions(o => MeshJson.ApplyTo(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<MeshExceptionHandler>();
        // Before AddProblemDetails: the first writer that can write wins, and the mesh's writes problem+json whatever Accept says.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProblemDetailsWriter, MeshProblemDetailsWriter>());
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.Customize);
        services.AddOpenApi();
        // KeyAuthorization enforces RequireAuthorization() (the routing's own check looks for ASP.NET Core's middleware).
        services.Configure<RouteOptions>(o => o.SuppressCheckForUnhandledSecurityMetadata = true);
        services.AddMeshMcp();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Made once: a partition's limiter is made from its key alone, so a request allocates no factory. The
            // partitioned limiter replenishes its buckets on its own timer (as GetTokenBucketLimiter arranges), not one each.
            Func<(string, int), RateLimiter> bucket = key => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = Share(serverOptions.RateLimitBurst, key.Item2),
                TokensPerPeriod = Share(serverOptions.RateLimitPerSecond, key.Item2),
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = false,
            });
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, (string, int)>(context =>
            {
                // Probes and scrapes are not API calls: they never spend a key's (or an address's) budget.
                if (!context.Request.Path.StartsWithSegments(ServerHost.ApiPrefix) && !context.Request.Path.StartsWithSegments(McpHosting.Path))
                {
                    return RateLimitPartition.GetNoLimiter(("operations", 0));
                }
                // The limits are the whole mesh's: replicas behind a load balancer each allow their share, so a key
                // spread over them gets about the limit in all (and a share of it when it sticks to one replica).
                var replicas = context.RequestServices.GetRequiredService<ILeaseLeader>().Replicas;
                var caller = context.User.Identity is MeshIdentity identity ? identity.Caller.KeyId : "anonymous:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.Get((caller, replicas), bucket);
            });
            o.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Problems.WriteAsync(context.HttpContext, 429, "rate_limited", "Too many requests", $"This key sent too many requests; retry after {retryAfter} s.");
            };
        });
        // Without a service name /metrics says service_name="unknown_service:session-mesh".
        services.AddOpenTelemetry().ConfigureResource(r => r.AddService("session-mesh")).WithMetrics(m =>
        {
            // System.Runtime: the process's own series (collections and their pauses, heap, thread pool, CPU), read only
            // when /metrics is scraped.
            m.AddMeter(MeshMetrics.MeterName, RuntimeMeterName).AddAspNetCoreInstrumentation().AddPrometheusExporter();
            // Meter listeners are process-wide: a second server in the same process (the tests run many; a host may embed
            // two) publishes meters of the same names, and its gauges would overwrite this server's. Only meters made by
            // this server's own factory (and meters made without one) are exported here.
            ((IDeferredMeterProviderBuilder)m).Configure((sp, metrics) =>
            {
                var factory = sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
                metrics.AddView(instrument =>
                    instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, factory) ? null : MetricStreamConfiguration.Drop);
            });
        });

        if (settings.Sandbox && sandbox is not null)
        {
            builder.AddSandbox(sandbox);
        }
    }

    public static void UseMeshServer(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MeshServerOptions>>().Value;
        app.UseExceptionHandler();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Request.Path.StartsWithSegments(ServerHost.ApiPrefix) && http.Response.ContentType is null)
            {
                var status = http.Response.StatusCode;
                var (code, detail) = status switch
                {
                    404 => ("route_not_found", $"{http.Request.Method} {http.Request.Path} is not an endpoint of this API; see /openapi/v1.json."),
                    405 => ("method_not_allowed", $"{http.Request.Path} does not take {http.Request.Method}; see /openapi/v1.json."),
                    413 => ("payload_too_large", $"The request body is larger than the {options.MaxRequestBodySize} byte limit."),
                    _ => ("http_" + status, Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)),
                };
                await Problems.WriteAsync(http, status, code, Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), detail);
            }
        });
        if (options.OperationsListen is { Length: > 0 } operationsUrl)
        {
            // The operations port serves the operations endpoints and nothing else.
            var operationsPort = new Uri(operationsUrl).Port;
            app.Use((context, next) =>
                context.Connection.LocalPort == operationsPort && !IsOperationsPath(context.Request.Path)
                    ? Problems.WriteAsync(context, 404, "route_not_found", "Not Found", "This is the operations port: it serves /healthz, /readyz and /metrics only.")
                    : next(context));
        }
        // Static files, before routing and authentication: the page itself needs no key.
        if (options.Dashboard)
        {
            app.UseDashboard();
        }
        // Before routing: endpoint selection already filters on Content-Type.
        app.UseMiddleware<JsonBodyMiddleware>();
        app.UseRouting();
        app.UseMiddleware<KeyAuthentication>();
        app.UseRateLimiter();
        app.UseMiddleware<KeyAuthorization>();
        // Sandbox mode only: after authorization (a bad key is refused as usual), before the audit and the endpoints.
        app.UseSandboxFaults();
        app.UseMiddleware<AuditMiddleware>();

        var operationsHost = options.OperationsListen is { Length: > 0 } ops ? "*:" + new Uri(ops).Port : null;
        if (options.OperationsEndpoints)
        {
            app.MapOperations(operationsHost);
            var metrics = app.MapPrometheusScrapingEndpoint("/metrics");
            if (operationsHost is not null)
            {
                metrics.RequireHost(operationsHost);
            }
        }
        app.MapOpenApi();

        // Every API call can be refused a key (401) or a token from its budget (429); each endpoint declares the rest.
        var api = app.MapGroup(ServerHost.ApiPrefix).RequireAuthorization()
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests)
            .ProducesStorageFullOnWrites();
        api.MapSessions().MapAgents().MapRegistry().MapKeys().MapCommands().MapEvents().MapLogs().MapWebhooks();
        api.MapLocks();
        app.MapMeshMcp();
        api.MapCards(app);
        if (app.Services.IsSandbox())
        {
            api.MapSandbox();
        }
    }

    /// <summary>
    /// The certificate for the https:// addresses. An https address without a certificate, or a certificate with no https
    /// address to serve, is a mistake said at start, not a server that answers in plain text or not at all.
    /// </summary>
    private static void ConfigureHttps(WebApplicationBuilder builder, MeshServerOptions options, List<string> urls)
    {
        var https = urls.Where(url => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)).ToList();
        if (options.TlsCertificate is not { Length: > 0 } certificatePath)
        {
            if (https.Count > 0)
            {
                throw new ArgumentException($"Server:Listen (--listen): '{https[0]}' is https, but no certificate is set; give one with --tls-cert (and --tls-key), or SESSION_MESH_TLS_CERT.");
            }
            return;
        }
        if (https.Count == 0)
        {
            throw new ArgumentException($"Server:TlsCertificate (--tls-cert) is set, but no listen address is https; listen with --listen https://127.0.0.1:7780 (for example).");
        }
        var certificate = TlsCertificate.Load(certificatePath, options.TlsKey is { Length: > 0 } key ? key : null, options.TlsPassword is { Length: > 0 } password ? password : null);
        builder.Services.AddSingleton(certificate);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));
    }

    /// <summary>One replica's share of a mesh-wide limit: never below 1.</summary>
    internal static int Share(int limit, int replicas) => Math.Max(1, (int)Math.Ceiling(limit / (double)Math.Max(1, replicas)));

    private static bool IsOperationsPath(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");

    /// <summary>A listen address must be an absolute http(s) URL; Kestrel would read a malformed one as "every interface, port 80".</summary>
    private static string ListenUrl(string url, string setting)
    {
        var wildcard = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        if (!Uri.TryCreate(wildcard, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || uri.Query.Length > 0
            || !url.Contains(":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
        {
            throw new ArgumentException($"{setting}: '{url}' is not an address to listen on; write it like http://127.0.0.1:7780 (port 0 picks a free one).");
        }
        return url;
    }
}
