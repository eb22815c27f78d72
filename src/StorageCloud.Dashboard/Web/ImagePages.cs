using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// Images through the image API with the user's token: the list, upload (the file streamed through to the image
/// service, with a progress bar in the page) and delete.
/// </summary>
public sealed partial class DashboardApp
{
    private static readonly string[] DiskFormats = ["qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "iso"];

    private Task ImagesAsync(HttpContext context, Session session, string path, bool post) =>
        ServicePagesAsync(context, session, path, post, "image", "Images", image => ListImagesAsync(context, session, image), async (image, parts) =>
        {
            if (parts is [_, _, "upload"])
                await UploadImageAsync(context, session, image);
            else if (parts.Length == 4 && Guid.TryParse(parts[2], out var id) && parts[3] == "delete")
            {
                var (status, body) = await SendAsync(HttpMethod.Delete, $"{image}/v2/images/{id}", session.Token);
                await AfterAsync(context, session, status, body, "/images");
            }
            else await NotFoundAsync(context, session);
        });

    private async Task ListImagesAsync(HttpContext context, Session session, string image)
    {
        var images = await GetJsonAsync($"{image}/v2/images", session.Token);
        var csrf = CsrfField(session.Csrf);
        var body = new StringBuilder("<h2>Upload an image</h2><form method=\"post\" action=\"/images/upload\" enctype=\"multipart/form-data\" data-upload>").Append(csrf)
            .Append("<label>Image name <input name=\"name\" required maxlength=\"255\"></label><label>Disk format <select name=\"disk_format\" aria-label=\"Disk format\">");
        foreach (var format in DiskFormats) body.Append("<option>").Append(format).Append("</option>");
        body.Append("</select></label><label>Visibility <select name=\"visibility\" aria-label=\"Visibility\"><option>private</option><option>shared</option><option>community</option>")
            .Append(session.IsAdmin ? "<option>public</option>" : "").Append("</select></label>")
            .Append("<label>Image file <input type=\"file\" name=\"file\" required></label><button type=\"submit\">Upload image</button>")
            .Append("<progress value=\"0\" max=\"1\" aria-label=\"upload progress\"></progress></form>")
            .Append("<table><thead><tr><th>Name</th><th>Status</th><th>Format</th><th>Size</th><th>Visibility</th><th></th></tr></thead><tbody>");
        foreach (var i in images?["images"] as JsonArray ?? [])
        {
            var name = i!["name"]?.ToString() ?? "";
            body.Append("<tr><td>").Append(E(name)).Append("</td><td>").Append(E(i["status"]?.ToString())).Append("</td><td>")
                .Append(E(i["disk_format"]?.ToString())).Append("</td><td>").Append(E(i["size"]?.ToString())).Append("</td><td>")
                .Append(E(i["visibility"]?.ToString())).Append("</td><td>");
            if (i["owner"]?.ToString() == session.ProjectId)
                body.Append("<form method=\"post\" action=\"/images/").Append(E(i["id"]?.ToString())).Append("/delete\" class=\"inline\">").Append(csrf)
                    .Append("<button type=\"submit\" aria-label=\"").Append(E($"Delete image {name}")).Append("\">Delete</button></form>");
            body.Append("</td></tr>");
        }
        body.Append("</tbody></table>");
        await WritePageAsync(context, "Images", body.ToString(), session);
    }

    /// <summary>Creates the image record, then streams the file into it; a file the image service refuses leaves the image killed, as Glance does.</summary>
    private Task UploadImageAsync(HttpContext context, Session session, string image) =>
        ReceiveUploadAsync(context, session, async (fields, file, fileName) =>
        {
            var format = fields.GetValueOrDefault("disk_format", "");
            var record = new JsonObject
            {
                ["name"] = fields.GetValueOrDefault("name") is { Length: > 0 } name ? name : fileName,
                ["disk_format"] = Array.IndexOf(DiskFormats, format) >= 0 ? format : "raw",
                ["container_format"] = "bare",
                ["visibility"] = fields.GetValueOrDefault("visibility", "private"),
            };
            var (status, created) = await SendAsync(HttpMethod.Post, $"{image}/v2/images", session.Token, record);
            if (status != HttpStatusCode.Created || created?["id"]?.ToString() is not { } id)
            {
                await AfterAsync(context, session, status >= HttpStatusCode.BadRequest ? status : HttpStatusCode.BadGateway, created, "/images");
                return;
            }
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{image}/v2/images/{id}/file") { Content = new StreamContent(file.Body, 1 << 16) };
            put.Headers.Add("X-Auth-Token", session.Token);
            put.Headers.TransferEncodingChunked = true;
            put.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using var stored = await Http.SendAsync(put);
            if (!stored.IsSuccessStatusCode)
            {
                var reason = await stored.Content.ReadAsStringAsync();
                await WritePageAsync(context, "Upload", $"<p class=\"error\" role=\"alert\">The image service refused the file ({(int)stored.StatusCode}): {E(Plain(reason))}</p><p><a href=\"/images\">Back</a></p>", session, (int)stored.StatusCode);
                return;
            }
            context.Response.Redirect("/images");
            context.Response.StatusCode = 303;
        });

    /// <summary>An error body's text without its markup (Glance answers errors as small HTML pages).</summary>
    private static string Plain(string text)
    {
        var plain = System.Text.RegularExpressions.Regex.Replace(text, "<[^>]*>", " ");
        plain = System.Text.RegularExpressions.Regex.Replace(plain, @"\s+", " ").Trim();
        return plain.Length > 500 ? plain[..500] : plain;
    }
}
