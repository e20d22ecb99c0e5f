using SessionMesh.Mesh;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Tests.Server;

public sealed class MeshErrorMappingTests
{
    [Theory]
    [InlineData(MeshErrorKind.Invalid, 400)]
    [InlineData(MeshErrorKind.Unauthorized, 401)]
    [InlineData(MeshErrorKind.Forbidden, 403)]
    [InlineData(MeshErrorKind.NotFound, 404)]
    [InlineData(MeshErrorKind.Conflict, 409)]
    [InlineData(MeshErrorKind.Gone, 410)]
    [InlineData(MeshErrorKind.StorageFull, 507)]
    public void Each_kind_maps_to_one_status(MeshErrorKind kind, int status) =>
        Assert.Equal(status, MeshErrorMapping.StatusOf(kind));

    [Fact]
    public void Every_kind_has_a_status() =>
        Assert.All(Enum.GetValues<MeshErrorKind>(), kind => Assert.InRange(MeshErrorMapping.StatusOf(kind), 400, 599));

    [Fact]
    public void A_refusal_becomes_a_problem_with_its_code_title_detail_and_field()
    {
        var problem = MeshErrorMapping.ProblemOf(MeshException.Invalid("ttl", "'ttl' must be between 1 and 86400 seconds."));

        Assert.Equal(new MeshProblem(400, "validation_failed", "Invalid request", "'ttl' must be between 1 and 86400 seconds.", "ttl"), problem);
        Assert.Equal(new MeshProblem(404, "agent_not_found", "Not found", "No agent 'x' in this cluster."), MeshErrorMapping.ProblemOf(MeshException.AgentNotFound("x")));
        Assert.Equal(new MeshProblem(410, "session_ended", "Gone", "ended"), MeshErrorMapping.ProblemOf(MeshException.Gone("session_ended", "ended")));
    }
}
