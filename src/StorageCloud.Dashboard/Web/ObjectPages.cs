using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using static StorageCloud.Dashboard.Web.Html;

namespace StorageCloud.Dashboard.Web;

/// <summary>
/// Containers and objects through the Swift API with the user's token: list and create containers, browse objects by
/// pseudo-folder, upload (streamed, with a progress bar), download (streamed), delete, make a container public or
/// private, and temporary URLs for downloads.
/// </summary>
public sealed partial class DashboardApp
{
    private async Task ContainersAsync(HttpContext context, Session session, string path, bool post)
    {
        if (!session.Endpoints.TryGetValue("object-store", out var account))
        {
            await WritePageAsync(context, "Containers", "<p>This cloud has no object store.</p>", session);
            return;
        }
        var parts = path.Split('/', 4);
        if (parts.Length == 2 || parts[2].Length == 0)
        {
            if (post) await CreateContainerAsync(context, session, account);
            else await ListContainersAsync(context, session, account);
            return;
        }
        var container = Uri.UnescapeDataString(parts[2]);
        var action = parts.Length > 3 ? parts[3] : "";
        var containerUrl = $"{account}/{U(container)}";
        switch (post, action)
        {
            case (false, ""):
                await ListObjectsAsync(context, session, containerUrl, container, context.Request.Query["prefix"].ToString());
                return;
            case (false, _) when action.StartsWith("object/", StringComparison.Ordinal):
                await DownloadAsync(context, session, containerUrl, Uri.UnescapeDataString(action["object/".Length..]));
                return;
            case (false, _) when action.StartsWith("info/", StringComparison.Ordinal):
                await ObjectInfoAsync(context, session, containerUrl, container, Uri.UnescapeDataString(action["info/".Length..]));
                return;
            case (true, "upload"):
                await UploadAsync(context, session, containerUrl, container);
                return;
            case (true, "delete-object"):
                var name = (await context.Request.ReadFormAsync())["name"].ToString();
                await ObjectStoreAsync(context, session, HttpMethod.Delete, $"{containerUrl}/{EscapePath(name)}", container, Parent(name));
                return;
            case (true, "delete"):
                await ObjectStoreAsync(context, session, HttpMethod.Delete, containerUrl, null, null);
                return;
            case (true, "access"):
                var makePublic = (await context.Request.ReadFormAsync())["public"] == "true";
                await ObjectStoreAsync(context, session, HttpMethod.Post, containerUrl, container, "",
                    ("X-Container-Read", makePublic ? ".r:*,.rlistings" : ""));
                return;
            case (true, "tempurl"):
                await TempUrlAsync(context, session, account, container, (await context.Request.ReadFormAsync())["name"].ToString());
                return;
        }
        await WritePageAsync(context, "Not found", "<p>There is no such page.</p>", session, 404);
    }

    private static string EscapePath(string name) => string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    private static string Parent(string name) => name.LastIndexOf('/') is var slash and >= 0 ? name[..(slash + 1)] : "";

    private async Task ListContainersAsync(HttpContext context, Session session, string account)
    {
        var listing = await GetJsonAsync($"{account}?format=json", session.Token);
        var body = new StringBuilder("<form method=\"post\" action=\"/containers\">").Append(CsrfField(session.Csrf))
            .Append("<label>New container <input name=\"name\" required maxlength=\"256\"></label><button type=\"submit\">Create</button></form>")
            .Append("<table><thead><tr><th>Container</th><th>Objects</th><th>Bytes</th></tr></thead><tbody>");
        foreach (var c in listing?["items"] as JsonArray ?? [])
        {
            var name = c!["name"]!.ToString();
            body.Append("<tr><td><a href=\"/containers/").Append(E(U(name))).Append("\">").Append(E(name)).Append("</a></td><td>")
                .Append(E(c["count"]?.ToString())).Append("</td><td>").Append(E(c["bytes"]?.ToString())).Append("</td></tr>");
        }
        body.Append("</tbody></table>");
        await WritePageAsync(context, "Containers", body.ToString(), session);
    }

    private async Task CreateContainerAsync(HttpContext context, Session session, string account)
    {
        var name = (await context.Request.ReadFormAsync())["name"].ToString();
        if (name.Length is 0 or > 256 || name.Contains('/'))
        {
            await WritePageAsync(context, "Containers", "<p class=\"error\">A container name is 1 to 256 characters without a slash.</p>", session, 400);
            return;
        }
        await ObjectStoreAsync(context, session, HttpMethod.Put, $"{account}/{U(name)}", name, "");
    }

    /// <summary>Sends one request to the object store; on success goes back to the container (or the list), else shows Swift's status.</summary>
    private async Task ObjectStoreAsync(HttpContext context, Session session, HttpMethod method, string url, string? container, string? prefix,
        params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Auth-Token", session.Token);
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        using var response = await Http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            var why = response.StatusCode == HttpStatusCode.Conflict ? "it is not empty" : $"the object store answered {(int)response.StatusCode}";
            await WritePageAsync(context, "Not done", $"<p class=\"error\" role=\"alert\">{E(method.Method)} was refused: {E(why)}.</p>", session, (int)response.StatusCode);
            return;
        }
        context.Response.Redirect(container is null ? "/containers" : $"/containers/{U(container)}" + (string.IsNullOrEmpty(prefix) ? "" : $"?prefix={U(prefix)}"));
        context.Response.StatusCode = 303;
    }

    private async Task ListObjectsAsync(HttpContext context, Session session, string containerUrl, string container, string prefix)
    {
        var listing = await GetJsonAsync($"{containerUrl}?format=json&delimiter=/&prefix={U(prefix)}", session.Token);
        if (listing is null)
        {
            await WritePageAsync(context, "Not found", "<p>There is no such container.</p>", session, 404);
            return;
        }
        var self = $"/containers/{U(container)}";
        var body = new StringBuilder();
        body.Append("<p>").Append(prefix.Length > 0 ? $"<a href=\"{E(self)}\">{E(container)}</a> / {E(prefix)}" : E(container)).Append("</p>");
        body.Append("<form method=\"post\" action=\"").Append(E(self)).Append("/upload\" enctype=\"multipart/form-data\" data-upload>")
            .Append(CsrfField(session.Csrf)).Append("<input type=\"hidden\" name=\"prefix\" value=\"").Append(E(prefix)).Append("\">")
            .Append("<label>Upload a file <input type=\"file\" name=\"file\" required></label><button type=\"submit\">Upload</button>")
            .Append("<progress value=\"0\" max=\"1\" aria-label=\"upload progress\"></progress></form>");
        body.Append("<table><thead><tr><th>Name</th><th>Bytes</th><th>Actions</th></tr></thead><tbody>");
        foreach (var item in listing["items"] as JsonArray ?? [])
        {
            if (item!["subdir"] is { } subdir)
            {
                body.Append("<tr><td><a href=\"").Append(E(self)).Append("?prefix=").Append(E(U(subdir.ToString()))).Append("\">")
                    .Append(E(subdir.ToString())).Append("</a></td><td></td><td></td></tr>");
                continue;
            }
            var name = item["name"]!.ToString();
            body.Append("<tr><td><a href=\"").Append(E(self)).Append("/object/").Append(E(U(name))).Append("\">").Append(E(name)).Append("</a></td><td>")
                .Append(E(item["bytes"]?.ToString())).Append("</td><td>")
                .Append("<form method=\"post\" action=\"").Append(E(self)).Append("/delete-object\" class=\"inline\">").Append(CsrfField(session.Csrf))
                .Append("<input type=\"hidden\" name=\"name\" value=\"").Append(E(name)).Append("\"><button type=\"submit\">Delete</button></form> ")
                .Append("<form method=\"post\" action=\"").Append(E(self)).Append("/tempurl\" class=\"inline\">").Append(CsrfField(session.Csrf))
                .Append("<input type=\"hidden\" name=\"name\" value=\"").Append(E(name)).Append("\"><button type=\"submit\">Temp URL</button></form> ")
                .Append("<a href=\"").Append(E(self)).Append("/info/").Append(E(U(name))).Append("\" aria-label=\"").Append(E($"Details of {name}")).Append("\">details</a>")
                .Append("</td></tr>");
        }
        body.Append("</tbody></table>");
        foreach (var (value, label) in new[] { ("true", "Make public"), ("false", "Make private") })
            body.Append("<form method=\"post\" action=\"").Append(E(self)).Append("/access\" class=\"inline\">").Append(CsrfField(session.Csrf))
                .Append("<input type=\"hidden\" name=\"public\" value=\"").Append(value).Append("\"><button type=\"submit\">").Append(label).Append("</button></form> ");
        body.Append("<form method=\"post\" action=\"").Append(E(self)).Append("/delete\" class=\"inline\">").Append(CsrfField(session.Csrf))
            .Append("<button type=\"submit\">Delete container</button></form>");
        await WritePageAsync(context, $"Container {container}", body.ToString(), session);
    }

    /// <summary>Streams an uploaded file to the object store, under the form's pseudo-folder.</summary>
    private Task UploadAsync(HttpContext context, Session session, string containerUrl, string container) =>
        ReceiveUploadAsync(context, session, async (fields, file, fileName) =>
        {
            var prefix = fields.GetValueOrDefault("prefix", "");
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{containerUrl}/{EscapePath(prefix + fileName)}") { Content = new StreamContent(file.Body, 1 << 16) };
            put.Headers.Add("X-Auth-Token", session.Token);
            put.Headers.TransferEncodingChunked = true;
            put.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(file.ContentType, out var type) ? type : null;
            using var stored = await Http.SendAsync(put);
            if (!stored.IsSuccessStatusCode)
            {
                await WritePageAsync(context, "Upload", $"<p class=\"error\">The object store refused the upload ({(int)stored.StatusCode}).</p>", session, (int)stored.StatusCode);
                return;
            }
            context.Response.Redirect($"/containers/{U(container)}" + (prefix.Length > 0 ? $"?prefix={U(prefix)}" : ""));
            context.Response.StatusCode = 303;
        });

    /// <summary>An object's headers: type, size, ETag, dates and its metadata (every value escaped: metadata is the uploader's text).</summary>
    private async Task ObjectInfoAsync(HttpContext context, Session session, string containerUrl, string container, string name)
    {
        using var head = new HttpRequestMessage(HttpMethod.Head, $"{containerUrl}/{EscapePath(name)}");
        head.Headers.Add("X-Auth-Token", session.Token);
        using var response = await Http.SendAsync(head);
        if (!response.IsSuccessStatusCode)
        {
            await WritePageAsync(context, "Not found", "<p>There is no such object.</p>", session, (int)response.StatusCode);
            return;
        }
        var body = new StringBuilder("<table><tbody>");
        void Row(string label, string? value) => body.Append("<tr><th scope=\"row\">").Append(E(label)).Append("</th><td>").Append(E(value)).Append("</td></tr>");
        Row("Container", container);
        Row("Name", name);
        Row("Content type", response.Content.Headers.ContentType?.ToString());
        Row("Bytes", response.Content.Headers.ContentLength?.ToString(CultureInfo.InvariantCulture));
        Row("ETag", response.Headers.TryGetValues("ETag", out var etag) ? etag.First() : null);
        Row("Last modified", response.Content.Headers.LastModified?.ToString("u", CultureInfo.InvariantCulture));
        foreach (var (header, values) in response.Headers.Concat(response.Content.Headers))
            if (header.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) || header is "X-Delete-At" or "X-Static-Large-Object" or "X-Object-Manifest" or "X-Symlink-Target")
                Row(header.StartsWith("X-Object-Meta-", StringComparison.OrdinalIgnoreCase) ? $"Metadata: {header["X-Object-Meta-".Length..]}" : header, string.Join(", ", values));
        body.Append("</tbody></table><p><a href=\"/containers/").Append(E(U(container))).Append("/object/").Append(E(U(name))).Append("\">Download</a> · ")
            .Append("<a href=\"/containers/").Append(E(U(container))).Append("\">Back to ").Append(E(container)).Append("</a></p>");
        await WritePageAsync(context, $"Object {name}", body.ToString(), session);
    }

    private async Task DownloadAsync(HttpContext context, Session session, string containerUrl, string name)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, $"{containerUrl}/{EscapePath(name)}");
        get.Headers.Add("X-Auth-Token", session.Token);
        using var response = await Http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        if (!response.IsSuccessStatusCode)
        {
            await WritePageAsync(context, "Not found", "<p>There is no such object.</p>", session, (int)response.StatusCode);
            return;
        }
        context.Response.StatusCode = 200;
        // Served as a download, never rendered here: an object's bytes are the uploader's, not the dashboard's.
        context.Response.ContentType = "application/octet-stream";
        context.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = Path.GetFileName(name) }.ToString();
        if (response.Content.Headers.ContentLength is { } length) context.Response.ContentLength = length;
        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await body.CopyToAsync(context.Response.Body, 1 << 16, context.RequestAborted);
    }

    /// <summary>A temporary URL for one object, valid for a day: the account's temp URL key is made on first use.</summary>
    private async Task TempUrlAsync(HttpContext context, Session session, string account, string container, string name)
    {
        using var head = new HttpRequestMessage(HttpMethod.Head, account);
        head.Headers.Add("X-Auth-Token", session.Token);
        using var answer = await Http.SendAsync(head);
        var key = answer.Headers.TryGetValues("X-Account-Meta-Temp-URL-Key", out var keys) ? keys.First() : null;
        if (key is null)
        {
            key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            using var set = new HttpRequestMessage(HttpMethod.Post, account);
            set.Headers.Add("X-Auth-Token", session.Token);
            set.Headers.Add("X-Account-Meta-Temp-URL-Key", key);
            using var stored = await Http.SendAsync(set);
            if (!stored.IsSuccessStatusCode)
            {
                await WritePageAsync(context, "Temp URL", "<p class=\"error\">The account's temp URL key could not be set (only the account's owners may).</p>", session, 403);
                return;
            }
        }
        var accountUri = new Uri(account);
        var objectPath = $"{accountUri.AbsolutePath}/{U(container)}/{EscapePath(name)}";
        var expires = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"GET\n{expires}\n{objectPath}")));
        var url = $"{accountUri.GetLeftPart(UriPartial.Authority)}{objectPath}?temp_url_sig={signature}&temp_url_expires={expires}";
        await WritePageAsync(context, "Temp URL", $"<p>Anyone with this link can download <strong>{E(name)}</strong> for a day:</p><p><a href=\"{E(url)}\">{E(url)}</a></p>" +
            $"<p><a href=\"/containers/{E(U(container))}\">Back to {E(container)}</a></p>", session);
    }
}
