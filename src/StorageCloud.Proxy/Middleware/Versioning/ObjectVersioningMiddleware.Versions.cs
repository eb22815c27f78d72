using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Common.Time;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.Versioning;

public sealed partial class ObjectVersioningMiddleware
{
    /// <summary>One stored version of a name: its id, whether it is a delete marker, and its listing row.</summary>
    private sealed record StoredVersion(string Id, string VersionName, bool IsMarker, JsonElement Row);

    /// <summary>The older versions of one name (delete markers included), newest first.</summary>
    private async Task<List<StoredVersion>> OlderVersionsAsync(HttpContext context, string account, string container, string obj)
    {
        var result = new List<StoredVersion>();
        foreach (var row in await ListAsync(context, account, VersionsContainer(container), $"{BackendPath.ReservedPrefix}{obj}{BackendPath.ReservedPrefix}", [Reserved]))
        {
            var name = row.GetProperty("name").GetString()!;
            result.Add(new StoredVersion(IdOf(name), name, row.GetProperty("content_type").GetString() == DeleteMarker, row));
        }
        return result;
    }

    private async Task<List<JsonElement>> ListAsync(HttpContext context, string account, string container, string prefix, List<KeyValuePair<string, string>> headers)
    {
        using var response = await cluster.ContainerReadAsync(HttpMethod.Get, account, container,
            $"?format=json&prefix={Uri.EscapeDataString(prefix)}", [.. headers, new("X-Newest", "true")], newest: true, context.RequestAborted);
        if (response.Status != 200) return [];
        await using var body = await response.ReadBodyAsync(context.RequestAborted);
        using var doc = await JsonDocument.ParseAsync(body, cancellationToken: context.RequestAborted);
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>The current object's version id ("null" when written before versioning), or null when there is none.</summary>
    private async Task<string?> CurrentIdAsync(HttpContext context, SwiftPath path)
    {
        using var head = await cluster.ObjectReadAsync(HttpMethod.Head, path.Account!, path.Container!, path.Object!, [new("X-Newest", "true")], newest: true, context.RequestAborted);
        return head.IsSuccess ? head.Header(VersionIdSysmeta) ?? "null" : null;
    }

    /// <summary>
    /// GET/HEAD ?version-id=: the current object when it is that version, else the stored one (a marker reads as 404),
    /// read through the read filters as Swift reads it through the middleware below versioning: an archived link is
    /// followed (as the caller), an archived manifest serves its segments, or itself with multipart-manifest=get.
    /// </summary>
    private async Task ReadVersionAsync(HttpContext context, SwiftPath path, string versionId)
    {
        if (await CurrentIdAsync(context, path) == versionId)
        {
            context.Response.OnStarting(() => AddVersionIdAsync(context));
            await next(context);
            return;
        }
        if (versionId == "null" || !SwiftTimestamp.TryParse(versionId, out var at, out _))
        {
            await Relay.StatusAsync(context, versionId == "null" ? 404 : 400, versionId == "null" ? null : "Invalid version-id");
            return;
        }
        var version = path with { Container = VersionsContainer(path.Container!), Object = VersionName(path.Object!, at) };
        var headers = Relay.BackendHeaders(context);
        headers.Add(Reserved);
        foreach (var filter in readFilters) filter.PrepareRead(context, headers);
        using var stored = await cluster.ObjectReadAsync(new HttpMethod(context.Request.Method), path.Account!, version.Container!,
            version.Object!, headers, cancellationToken: context.RequestAborted);
        // (HttpClient re-spells the type with a space after ';'.)
        if (stored.IsSuccess && stored.Header("Content-Type")?.Replace(" ", "", StringComparison.Ordinal) == DeleteMarker)
        {
            // A marker reads as a 404 that says what it is, as Swift's.
            context.Response.StatusCode = 404;
            context.Response.Headers["X-Object-Version-Id"] = versionId;
            context.Response.ContentType = DeleteMarker;
            context.Response.ContentLength = 0;
            return;
        }
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode is >= 200 and < 300) context.Response.Headers["X-Object-Version-Id"] = versionId;
            return Task.CompletedTask;
        });
        foreach (var filter in readFilters)
            if (await filter.TryAnswerAsync(context, version, stored)) return;
        await Relay.WriteAsync(context, stored, Auth.SwiftAuthState.Of(context).Owner);
    }

    /// <summary>
    /// DELETE ?version-id=: removes that version. When it was the newest delete marker, the newest older version that
    /// is not a marker takes its place; when it was the object itself, the object is gone (404) as in Swift, unless the
    /// S3 API asks (RestorePreviousHeader) for S3's model, where the previous version becomes current.
    /// </summary>
    private async Task DeleteVersionAsync(HttpContext context, SwiftPath path, string versionId, bool objectLock)
    {
        var (account, container, obj) = (path.Account!, path.Container!, path.Object!);
        var s3 = context.Request.Headers[RestorePreviousHeader] == "true";
        // The S3 API judges its own deletes (with governance bypass); through the Swift API a locked version stays.
        if (objectLock && !s3 && versionId != "null" && SwiftTimestamp.TryParse(versionId, out var lockedAt, out _)
            && (await CurrentIdAsync(context, path) == versionId
                ? await LockedAsync(context, account, container, obj, [])
                : await LockedAsync(context, account, VersionsContainer(container), VersionName(obj, lockedAt), [Reserved])))
        {
            await Relay.StatusAsync(context, 403, "This version is locked by its object lock retention or legal hold.");
            return;
        }
        if (versionId == "null" && !s3)
        {
            // The null version is whatever the container holds now; a version there stays one, archived first (Swift
            // deletes only its link to the version).
            var archived = await ArchiveCurrentAsync(context, account, container, obj, onlyVersioned: true);
            if (archived != 0)
            {
                await Relay.StatusAsync(context, archived);
                return;
            }
            using var removedNull = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, container, obj, Relay.BackendHeaders(context), context.RequestAborted);
            context.Response.Headers["X-Object-Version-Id"] = "null";
            await Relay.StatusAsync(context, removedNull.Status is >= 200 and < 300 or 404 ? 204 : removedNull.Status);
            return;
        }
        if (!s3 && !SwiftTimestamp.TryParse(versionId, out _, out _))
        {
            await Relay.StatusAsync(context, 400, "Invalid version parameter");
            return;
        }
        var current = await CurrentIdAsync(context, path);
        var older = await OlderVersionsAsync(context, account, container, obj);
        bool wasLatest;
        if (current == versionId)
        {
            using var removed = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, container, obj, Relay.BackendHeaders(context), context.RequestAborted);
            if (removed.Status is (< 200 or >= 300) and not 404)
            {
                await Relay.StatusAsync(context, removed.Status);
                return;
            }
            // A version made latest again (PUT ?version-id=) is also still in the hidden container.
            var copy = older.FindIndex(v => v.Id == versionId);
            if (copy >= 0)
            {
                using var dropped = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, VersionsContainer(container), older[copy].VersionName, [Reserved], context.RequestAborted);
                older.RemoveAt(copy);
            }
            wasLatest = s3;
        }
        else
        {
            var match = older.FindIndex(v => v.Id == versionId);
            if (match < 0)
            {
                // Deleting a version that is not there succeeds, as in Swift.
                context.Response.Headers["X-Object-Version-Id"] = versionId;
                await Relay.StatusAsync(context, 204);
                return;
            }
            using var removed = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, VersionsContainer(container), older[match].VersionName, [Reserved], context.RequestAborted);
            wasLatest = current is null && match == 0;
            older.RemoveAt(match);
        }
        if (wasLatest && older.Count > 0 && !older[0].IsMarker)
        {
            // The previous version becomes the object again.
            var previous = older[0];
            using var source = await cluster.ObjectReadAsync(HttpMethod.Get, account, VersionsContainer(container), previous.VersionName, [Reserved], newest: true, context.RequestAborted);
            if (source.IsSuccess && await StreamCopyAsync(context, source, account, container, obj, SwiftTimestamp.Parse(previous.Id)) is >= 200 and < 300)
            {
                using var dropped = await cluster.ObjectWriteAsync(HttpMethod.Delete, account, VersionsContainer(container), previous.VersionName, [Reserved], context.RequestAborted);
            }
        }
        context.Response.Headers["X-Object-Version-Id"] = versionId;
        await Relay.StatusAsync(context, 204);
    }

    /// <summary>True when the object a HEAD finds is under an S3 object-lock legal hold or retention still running.</summary>
    private async Task<bool> LockedAsync(HttpContext context, string account, string container, string obj, List<KeyValuePair<string, string>> headers)
    {
        using var head = await cluster.ObjectReadAsync(HttpMethod.Head, account, container, obj, headers, newest: true, context.RequestAborted);
        if (!head.IsSuccess) return false;
        if (head.Header(S3.ObjectLock.LegalHoldSysmeta) == "ON") return true;
        return head.Header(S3.ObjectLock.ModeSysmeta) is not null && head.Header(S3.ObjectLock.UntilSysmeta) is { } until
               && S3.ObjectLock.TryParseDate(until, out var at) && at > DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// PUT ?version-id= with no body: that older version becomes the latest again, keeping its id (the version stays
    /// listed once, now as the latest); the object it replaces is archived first if it is a version.
    /// </summary>
    private async Task PutVersionAsync(HttpContext context, SwiftPath path, string versionId, bool enabled)
    {
        var request = context.Request;
        if (request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0))
        {
            await Relay.StatusAsync(context, 400, "PUT version-id requests require a zero byte body");
            return;
        }
        if (versionId == "null" || !SwiftTimestamp.TryParse(versionId, out var at, out _))
        {
            await Relay.StatusAsync(context, 400, "Invalid version parameter");
            return;
        }
        var (account, container, obj) = (path.Account!, path.Container!, path.Object!);
        if (await CurrentIdAsync(context, path) == versionId)
        {
            context.Response.Headers["X-Object-Version-Id"] = versionId;
            await Relay.StatusAsync(context, 201);
            return;
        }
        using var source = await cluster.ObjectReadAsync(HttpMethod.Get, account, VersionsContainer(container), VersionName(obj, at), [Reserved], newest: true, context.RequestAborted);
        if (!source.IsSuccess || source.Header("Content-Type")?.Replace(" ", "", StringComparison.Ordinal) == DeleteMarker)
        {
            await Relay.StatusAsync(context, source.IsSuccess || source.Status == 404 ? 404 : 503,
                source.IsSuccess || source.Status == 404 ? "The specified version does not exist" : null);
            return;
        }
        var archived = await ArchiveCurrentAsync(context, account, container, obj, onlyVersioned: !enabled);
        if (archived != 0)
        {
            await Relay.StatusAsync(context, archived);
            return;
        }
        var status = await StreamCopyAsync(context, source, account, container, obj, at);
        if (status is >= 200 and < 300) context.Response.Headers["X-Object-Version-Id"] = versionId;
        await Relay.StatusAsync(context, status is >= 200 and < 300 ? 201 : status is >= 400 and < 500 ? status : 503);
    }

    /// <summary>
    /// POST ?version-id=: updates that version's metadata, the current object's or a stored one's (so the S3 API can keep
    /// per-version state such as object lock). It used to fall through to the current object whatever the id named.
    /// </summary>
    private async Task PostVersionAsync(HttpContext context, SwiftPath path, string versionId)
    {
        if (await CurrentIdAsync(context, path) == versionId)
        {
            await next(context);
            return;
        }
        if (versionId == "null" || !SwiftTimestamp.TryParse(versionId, out var at, out _))
        {
            await Relay.StatusAsync(context, versionId == "null" ? 404 : 400, versionId == "null" ? null : "Invalid version-id");
            return;
        }
        var (account, container, name) = (path.Account!, VersionsContainer(path.Container!), VersionName(path.Object!, at));
        using (var stored = await cluster.ObjectReadAsync(HttpMethod.Head, account, container, name, [Reserved], newest: true, context.RequestAborted))
        {
            // A delete marker has no metadata of its own to change.
            if (!stored.IsSuccess || stored.Header("Content-Type")?.Replace(" ", "", StringComparison.Ordinal) == DeleteMarker)
            {
                await Relay.StatusAsync(context, stored.IsSuccess || stored.Status == 404 ? 404 : 503);
                return;
            }
        }
        // Expiry headers are the current object's business; an archived version is removed by its id.
        var headers = Relay.BackendHeaders(context, h => h.StartsWith("X-Delete-", StringComparison.OrdinalIgnoreCase));
        headers.Add(Reserved);
        using var posted = await cluster.ObjectWriteAsync(HttpMethod.Post, account, container, name, headers, context.RequestAborted);
        context.Response.Headers["X-Object-Version-Id"] = versionId;
        await Relay.WriteStatusAsync(context, posted.Status);
    }

    /// <summary>
    /// GET ?versions: every version of every name, with version_id and is_latest, as Swift lists them: by name, a
    /// name's null version first and then its versions newest first (reverse: names backwards, versions oldest first),
    /// names with the delimiter after the prefix folded into subdirs, paged by marker, version_marker and limit.
    /// </summary>
    private async Task ListVersionsAsync(HttpContext context, SwiftPath path)
    {
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container!, cancellationToken: context.RequestAborted);
        if (await authorizer.AuthorizeAsync(context, path, info.ReadAcl) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        if (!info.Exists)
        {
            await Relay.StatusAsync(context, info.Status == 404 ? 404 : 503);
            return;
        }
        var query = context.Request.Query;
        // As Swift's: a version listing is JSON only (406 for any other format or a client that takes no JSON).
        var format = query["format"].ToString();
        var accept = context.Request.Headers.Accept.ToString();
        if ((format.Length > 0 && !format.Equals("json", StringComparison.OrdinalIgnoreCase))
            || (format.Length == 0 && accept.Length > 0 && !accept.Contains("application/json", StringComparison.OrdinalIgnoreCase)
                && !accept.Contains("*/*", StringComparison.Ordinal) && !accept.Contains("application/*", StringComparison.OrdinalIgnoreCase)))
        {
            await Relay.StatusAsync(context, 406);
            return;
        }
        var delimiter = query["delimiter"].ToString();
        // Version ids are digits and dots: a delimiter made of those would cut them apart.
        if (delimiter.AsSpan().IndexOfAny("0123456789.\u0001") >= 0)
        {
            await Relay.StatusAsync(context, 400, "invalid delimiter param");
            return;
        }
        var versionMarker = query["version_marker"].ToString();
        if (query.ContainsKey("version_marker") && !query.ContainsKey("marker"))
        {
            await Relay.StatusAsync(context, 400, "version_marker param requires marker");
            return;
        }
        if (versionMarker.Length > 0 && versionMarker != "null" && !SwiftTimestamp.TryParse(versionMarker, out _, out _))
        {
            await Relay.StatusAsync(context, 400, "invalid version_marker param");
            return;
        }
        var reverse = query["reverse"].ToString().ToLowerInvariant() is "true" or "1" or "yes" or "on" or "t" or "y";
        var prefix = query["prefix"].ToString();
        var current = await ListAsync(context, path.Account!, path.Container!, prefix, []);
        var stored = await ListAsync(context, path.Account!, VersionsContainer(path.Container!), BackendPath.ReservedPrefix + prefix, [Reserved]);
        var byName = new SortedDictionary<string, List<Dictionary<string, object?>>>(StringComparer.Ordinal);
        // A current object's id is in its metadata (a restored version keeps its id), so each is asked for it.
        var currentIds = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(current.Where(r => r.TryGetProperty("name", out _)), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = context.RequestAborted },
            async (row, ct) =>
            {
                var name = row.GetProperty("name").GetString()!;
                using var head = await cluster.ObjectReadAsync(HttpMethod.Head, path.Account!, path.Container!, name, [], cancellationToken: ct);
                // An object gone since it was listed (expired, say) is no version of anything: marked "" to be left out.
                currentIds[name] = head.IsSuccess ? head.Header(VersionIdSysmeta) ?? "null" : head.Status == 404 ? "" : IdFromModified(row);
            });
        foreach (var row in current)
        {
            if (!row.TryGetProperty("name", out var n)) continue;
            var currentId = currentIds.GetValueOrDefault(n.GetString()!, "null");
            if (currentId.Length == 0) continue;
            var entry = Row(row);
            entry["version_id"] = currentId;
            entry["is_latest"] = true;
            Add(byName, n.GetString()!, entry);
        }
        foreach (var row in stored)
        {
            var versionName = row.GetProperty("name").GetString()!;
            var name = versionName[1..versionName.LastIndexOf(BackendPath.ReservedPrefix)];
            var id = IdOf(versionName);
            // A version made latest again is both current and stored: it is listed once, as the latest.
            if (byName.TryGetValue(name, out var known) && known.Exists(v => (string)v["version_id"]! == id)) continue;
            var entry = Row(row);
            entry["name"] = name;
            entry["version_id"] = id;
            entry["is_latest"] = false;
            Add(byName, name, entry);
        }
        var listing = new List<Dictionary<string, object?>>();
        string? lastSubdir = null;
        IEnumerable<KeyValuePair<string, List<Dictionary<string, object?>>>> names = reverse ? byName.Reverse() : byName;
        foreach (var (name, versions) in names)
        {
            if (delimiter.Length > 0 && name.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) is var cut and >= 0)
            {
                var subdir = name[..(cut + delimiter.Length)];
                if (subdir != lastSubdir) listing.Add(new Dictionary<string, object?> { ["subdir"] = lastSubdir = subdir });
                continue;
            }
            // The null version first, then the newest; with no current object, the newest delete marker is the latest.
            versions.Sort((a, b) => Rank(a) != Rank(b) ? Rank(a) - Rank(b) : string.CompareOrdinal((string)b["version_id"]!, (string)a["version_id"]!));
            if (!versions.Exists(v => (bool)v["is_latest"]!) && versions.Find(v => (string?)v["content_type"] == DeleteMarker) is { } marker) marker["is_latest"] = true;
            if (reverse)
            {
                var from = Rank(versions[0]) == 0 ? 1 : 0;
                versions.Reverse(from, versions.Count - from);
            }
            listing.AddRange(versions);
        }
        listing = Page(listing, context.Request, reverse);
        var body = Encoding.UTF8.GetBytes(PythonJson.Serialize(listing));
        context.Response.StatusCode = 200;
        context.Response.ContentType = ListingFormats.ContentType("json");
        context.Response.Headers["X-Versions-Enabled"] = IsTrue(info.Header(EnabledSysmeta)) ? "True" : "False";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static int Rank(Dictionary<string, object?> version) => (string)version["version_id"]! == "null" ? 0 : 1;

    /// <summary>The page after marker (and version_marker, for the versions of that name) and up to limit, as clients page through.</summary>
    private static List<Dictionary<string, object?>> Page(List<Dictionary<string, object?>> listing, HttpRequest request, bool reverse)
    {
        var marker = request.Query["marker"].ToString();
        var versionMarker = request.Query["version_marker"].ToString();
        var limit = int.TryParse(request.Query["limit"].ToString(), out var l) && l is > 0 and <= 10000 ? l : 10000;
        static string Key(Dictionary<string, object?> v) => (string)(v.GetValueOrDefault("name") ?? v["subdir"])!;
        var start = 0;
        if (marker.Length > 0)
        {
            start = listing.FindIndex(v => reverse ? string.CompareOrdinal(Key(v), marker) < 0 : string.CompareOrdinal(Key(v), marker) > 0);
            if (start < 0) start = listing.Count;
            if (versionMarker.Length > 0)
            {
                var at = listing.FindIndex(v => Key(v) == marker && (string?)v.GetValueOrDefault("version_id") == versionMarker);
                if (at >= 0) start = at + 1;
            }
        }
        return listing.GetRange(start, Math.Min(limit, listing.Count - start));
    }

    private static void Add(SortedDictionary<string, List<Dictionary<string, object?>>> byName, string name, Dictionary<string, object?> entry)
    {
        if (!byName.TryGetValue(name, out var list)) byName[name] = list = [];
        list.Add(entry);
    }

    private static Dictionary<string, object?> Row(JsonElement row)
    {
        var entry = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in row.EnumerateObject())
            entry[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.Number => p.Value.GetInt64(),
                JsonValueKind.String => p.Value.GetString(),
                _ => p.Value.ToString(),
            };
        return entry;
    }

    /// <summary>A current object's version id, from its listing row's last_modified (its write timestamp).</summary>
    private static string IdFromModified(JsonElement row)
    {
        var modified = DateTime.Parse(row.GetProperty("last_modified").GetString()!, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);
        var ticks = (modified - DateTime.UnixEpoch).Ticks / (TimeSpan.TicksPerSecond / SwiftTimestamp.TicksPerSecond);
        return new SwiftTimestamp(ticks).Normal;
    }
}
