using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Server.Auth;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>Signed lifecycle webhooks: create (the secret shown once), list, get, test, enable, delete, deliveries.</summary>
internal static class WebhookEndpoints
{
    public static RouteGroupBuilder MapWebhooks(this RouteGroupBuilder api)
    {
        var webhooks = api.MapGroup("/webhooks").WithTags("Webhooks");
        webhooks.MapPost("/", Create).WithSummary("Create a webhook; the answer shows its signing secret, once.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status413PayloadTooLarge);
        webhooks.MapGet("/", List).WithSummary("Webhooks, never their secrets.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        webhooks.MapGet("/{webhook_id}", Get).WithSummary("One webhook, with where its deliveries stand.").ProducesProblems(Status403Forbidden, Status404NotFound);
        webhooks.MapDelete("/{webhook_id}", Delete).WithSummary("Delete a webhook and its delivery history.").ProducesProblems(Status403Forbidden, Status404NotFound);
        webhooks.MapPost("/{webhook_id}/test", Test).WithSummary("Send a signed webhook.test delivery now and answer with its outcome.").ProducesProblems(Status403Forbidden, Status404NotFound);
        webhooks.MapPost("/{webhook_id}/enable", Enable).WithSummary("Re-enable a failing webhook: delivery resumes at the event it gave up on.").ProducesProblems(Status403Forbidden, Status404NotFound);
        webhooks.MapGet("/{webhook_id}/deliveries", Deliveries).WithSummary("Recent delivery attempts, newest first.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        return api;
    }

    internal sealed record PageQuery(
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "cursor")] string? Cursor);

    internal sealed record DeliveryQuery(
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "cursor")] string? Cursor);

    private static async Task<Created<CreatedWebhookView>> Create(CreateWebhookRequest request, ClaimsPrincipal user, WebhookService webhooks, CancellationToken cancellationToken)
    {
        var webhook = await webhooks.CreateAsync(user.Caller(), request, cancellationToken);
        return TypedResults.Created($"/api/session-mesh/webhooks/{webhook.WebhookId}", webhook);
    }

    private static async Task<Ok<Page<WebhookView>>> List([AsParameters] PageQuery query, ClaimsPrincipal user, WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.ListAsync(user.Caller(), query.Cluster, query.Limit, query.Cursor, cancellationToken));

    private static async Task<Ok<WebhookView>> Get([FromRoute(Name = "webhook_id")] string webhookId, ClaimsPrincipal user, WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.GetAsync(user.Caller(), webhookId, cancellationToken));

    private static async Task<Ok<WebhookView>> Delete([FromRoute(Name = "webhook_id")] string webhookId, ClaimsPrincipal user, WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.DeleteAsync(user.Caller(), webhookId, cancellationToken));

    private static async Task<Ok<WebhookDeliveryView>> Test([FromRoute(Name = "webhook_id")] string webhookId, ClaimsPrincipal user, WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.TestAsync(user.Caller(), webhookId, cancellationToken));

    private static async Task<Ok<WebhookView>> Enable([FromRoute(Name = "webhook_id")] string webhookId, ClaimsPrincipal user, WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.EnableAsync(user.Caller(), webhookId, cancellationToken));

    private static async Task<Ok<Page<WebhookDeliveryView>>> Deliveries([FromRoute(Name = "webhook_id")] string webhookId, [AsParameters] DeliveryQuery query, ClaimsPrincipal user, WebhookService webhooks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await webhooks.ListDeliveriesAsync(user.Caller(), webhookId, query.Limit, query.Cursor, cancellationToken));
}
