using System.Text.Json.Nodes;
using StorageCloud.Image.Images;
using StorageCloud.Service.Api;

namespace StorageCloud.Image.Glance;

/// <summary>
/// Image members: the owner of a shared image adds projects; each member accepts or rejects it for itself (an
/// accepted image is listed by default, a pending or rejected one only with member_status).
/// </summary>
public sealed partial class GlanceApi
{
    private void MapMembers()
    {
        _router.Map("GET", "/v2/images/{id}/members", ListMembersAsync);
        _router.Map("POST", "/v2/images/{id}/members", AddMemberAsync);
        _router.Map("GET", "/v2/images/{id}/members/{member}", ShowMemberAsync);
        _router.Map("PUT", "/v2/images/{id}/members/{member}", UpdateMemberAsync);
        _router.Map("DELETE", "/v2/images/{id}/members/{member}", DeleteMemberAsync);
    }

    private static JsonObject MemberView(ImageMemberRow row) => new()
    {
        ["image_id"] = row.ImageId,
        ["member_id"] = row.MemberId,
        ["status"] = row.Status,
        ["created_at"] = row.CreatedAt,
        ["updated_at"] = row.UpdatedAt,
        ["schema"] = "/v2/schemas/member",
    };

    /// <summary>The member row the caller may see: the owner sees every member, a member only itself.</summary>
    private async Task<ImageMemberRow> FindMemberAsync(ApiRequest r, ImageRow image, string member)
    {
        var row = await _store.GetAsync<ImageMemberRow>(MemberId(image.Id, member));
        if (row is null || (image.Owner != Project(r) && member != Project(r) && !Me(r).IsAdmin))
            throw ApiError.NotFound($"{member} is not a member of image {image.Id}");
        return row;
    }

    private static void RequireShared(ImageRow image)
    {
        if (image.Visibility != "shared") throw Forbidden($"Only shared images have members (image {image.Id} is {image.Visibility}).");
    }

    private async Task ListMembersAsync(ApiRequest r)
    {
        var image = await FindAsync(r, r.Args[0]);
        RequireShared(image);
        var items = new JsonArray();
        foreach (var row in await _store.ListAsync<ImageMemberRow>(("image_id", image.Id)))
        {
            if (image.Owner == Project(r) || Me(r).IsAdmin || row.MemberId == Project(r)) items.Add(MemberView(row));
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["members"] = items, ["schema"] = "/v2/schemas/members" });
    }

    private async Task AddMemberAsync(ApiRequest r)
    {
        var image = await FindOwnAsync(r, r.Args[0], "add members to");
        RequireShared(image);
        var body = await JsonBody.ReadAsync(r.Context);
        var member = JsonBody.String(body, "member", "request body");
        if (member.Length is 0 or > 255) throw ApiError.BadRequest("A member id is 1 to 255 characters.");
        var now = Now();
        var row = new ImageMemberRow { Id = MemberId(image.Id, member), ImageId = image.Id, MemberId = member, CreatedAt = now, UpdatedAt = now };
        if ((await _store.ListAsync<ImageMemberRow>(("image_id", image.Id))).Count >= 128)
            throw new ApiError(413, "Maximum number of image members (128) exceeded.");
        if (!await _store.InsertAsync(row)) throw ApiError.Conflict($"Member {member} already exists for image {image.Id}.");
        await ApiResponses.WriteJsonAsync(r.Context, 200, MemberView(row));
    }

    private async Task ShowMemberAsync(ApiRequest r)
    {
        var image = await FindAsync(r, r.Args[0]);
        RequireShared(image);
        await ApiResponses.WriteJsonAsync(r.Context, 200, MemberView(await FindMemberAsync(r, image, r.Args[1])));
    }

    /// <summary>PUT .../members/{member}: only the member itself accepts or rejects.</summary>
    private async Task UpdateMemberAsync(ApiRequest r)
    {
        var image = await FindAsync(r, r.Args[0]);
        Enforce(r, "write");
        RequireShared(image);
        var row = await FindMemberAsync(r, image, r.Args[1]);
        if (row.MemberId != Project(r)) throw Forbidden("Only the member itself may change its membership status.");
        var status = JsonBody.String(await JsonBody.ReadAsync(r.Context), "status", "request body");
        if (status is not ("pending" or "accepted" or "rejected")) throw ApiError.BadRequest($"Invalid status: {status}");
        row.Status = status;
        row.UpdatedAt = Now();
        await _store.UpdateAsync(row);
        await ApiResponses.WriteJsonAsync(r.Context, 200, MemberView(row));
    }

    private async Task DeleteMemberAsync(ApiRequest r)
    {
        var image = await FindOwnAsync(r, r.Args[0], "remove members from");
        RequireShared(image);
        var row = await FindMemberAsync(r, image, r.Args[1]);
        await _store.DeleteAsync<ImageMemberRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 204);
    }
}
