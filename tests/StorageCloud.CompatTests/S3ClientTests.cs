using System.Security.Cryptography;
using System.Text;

namespace StorageCloud.CompatTests;

/// <summary>
/// Debian's S3 clients — awscli, boto3, s3cmd and rclone — unchanged against the all-in-one appliance, with the
/// tempauth pair test:tester/testing as access key and secret (as Swift's s3api takes them).
/// </summary>
public sealed class S3ClientTests(AioFixture aio) : IClassFixture<AioFixture>
{
    private Dictionary<string, string> AwsEnv() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = "test:tester",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_CONFIG_FILE"] = "/dev/null",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
        ["HOME"] = aio.Root,
    };

    private async Task<string> Aws(params string[] args)
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/aws", ["--endpoint-url", aio.Url, .. args], AwsEnv(), aio.Root, TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"aws {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    private string Work(string name)
    {
        var path = Path.Combine(aio.Root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public async Task Awscli_makes_copies_syncs_presigns_and_removes()
    {
        var work = Work("aws");
        await Aws("s3", "mb", "s3://aws-cli");
        Assert.Contains(" aws-cli", await Aws("s3", "ls"));
        var big = RandomNumberGenerator.GetBytes(64 * 1024 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(work, "big.bin"), big);
        await File.WriteAllTextAsync(Path.Combine(work, "small.txt"), "small object");
        await Aws("s3", "cp", "--no-progress", Path.Combine(work, "big.bin"), "s3://aws-cli/big.bin");
        await Aws("s3", "cp", "--no-progress", Path.Combine(work, "small.txt"), "s3://aws-cli/small.txt");
        // 64 MiB in 8 MiB parts: the CLI used multipart, and the ETag says so.
        var head = await Aws("s3api", "head-object", "--bucket", "aws-cli", "--key", "big.bin");
        Assert.Contains("-8\\\"", head);
        await Aws("s3", "cp", "--no-progress", "s3://aws-cli/big.bin", Path.Combine(work, "big.out"));
        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(work, "big.out")));

        var tree = Path.Combine(work, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "a", "b"));
        for (var i = 0; i < 5; i++) await File.WriteAllTextAsync(Path.Combine(tree, "a", "b", $"f{i}.txt"), $"file {i}");
        await File.WriteAllTextAsync(Path.Combine(tree, "top.txt"), "top");
        await Aws("s3", "sync", "--no-progress", tree, "s3://aws-cli/tree");
        var listing = await Aws("s3", "ls", "--recursive", "s3://aws-cli/tree/");
        Assert.Equal(6, listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        // A second sync finds nothing to do.
        Assert.Equal("", (await Aws("s3", "sync", "--no-progress", tree, "s3://aws-cli/tree")).Trim());

        var url = (await Aws("s3", "presign", "s3://aws-cli/small.txt", "--expires-in", "300")).Trim();
        var (status, body) = await aio.CurlAsync(url);
        Assert.Equal(200, status);
        Assert.Equal("small object", await File.ReadAllTextAsync(body));

        // The swift CLI sees the same objects, and S3 sees what swift uploads.
        Assert.Contains("small.txt", await aio.SwiftAsync("list", "aws-cli"));
        await File.WriteAllTextAsync(Path.Combine(aio.Root, "from-swift.txt"), "uploaded by swift");
        await aio.SwiftAsync("upload", "aws-cli", "from-swift.txt");
        await Aws("s3", "cp", "--no-progress", "s3://aws-cli/from-swift.txt", Path.Combine(work, "from-swift.out"));
        Assert.Equal("uploaded by swift", await File.ReadAllTextAsync(Path.Combine(work, "from-swift.out")));

        await Aws("s3api", "put-object-tagging", "--bucket", "aws-cli", "--key", "small.txt", "--tagging", "TagSet=[{Key=env,Value=prod}]");
        Assert.Contains("\"prod\"", await Aws("s3api", "get-object-tagging", "--bucket", "aws-cli", "--key", "small.txt"));

        await Aws("s3", "rm", "--recursive", "s3://aws-cli/tree");
        Assert.DoesNotContain("tree/", await Aws("s3", "ls", "--recursive", "s3://aws-cli"));
        await Aws("s3", "rb", "--force", "s3://aws-cli");
        Assert.DoesNotContain("aws-cli", await Aws("s3", "ls"));
    }

    [Fact]
    public async Task Awscli_turns_on_versioning_and_lists_versions_and_delete_markers()
    {
        var work = Work("aws-versions");
        await Aws("s3", "mb", "s3://aws-versions");
        await Aws("s3api", "put-bucket-versioning", "--bucket", "aws-versions", "--versioning-configuration", "Status=Enabled");
        Assert.Contains("Enabled", await Aws("s3api", "get-bucket-versioning", "--bucket", "aws-versions"));
        var file = Path.Combine(work, "doc.txt");
        await File.WriteAllTextAsync(file, "version one");
        await Aws("s3api", "put-object", "--bucket", "aws-versions", "--key", "doc.txt", "--body", file);
        await File.WriteAllTextAsync(file, "version two");
        await Aws("s3api", "put-object", "--bucket", "aws-versions", "--key", "doc.txt", "--body", file);
        await Aws("s3api", "delete-object", "--bucket", "aws-versions", "--key", "doc.txt");
        var versions = System.Text.Json.Nodes.JsonNode.Parse(await Aws("s3api", "list-object-versions", "--bucket", "aws-versions"))!;
        Assert.Equal(2, versions["Versions"]!.AsArray().Count);
        var marker = versions["DeleteMarkers"]!.AsArray().Single()!;
        Assert.True(marker["IsLatest"]!.GetValue<bool>());
        var oldest = versions["Versions"]!.AsArray().Last()!["VersionId"]!.GetValue<string>();
        await Aws("s3api", "get-object", "--bucket", "aws-versions", "--key", "doc.txt", "--version-id", oldest, Path.Combine(work, "old.txt"));
        Assert.Equal("version one", await File.ReadAllTextAsync(Path.Combine(work, "old.txt")));
    }

    [Fact]
    public async Task Boto3_does_multipart_ranges_copies_multi_delete_pagination_and_presigned_puts()
    {
        var script = Path.Combine(Work("boto3"), "check.py");
        await File.WriteAllTextAsync(script, Boto3Script);
        var env = AwsEnv();
        env["S3_ENDPOINT"] = aio.Url;
        env["WORK"] = Path.GetDirectoryName(script)!;
        var (exit, stdout, stderr) = await CliRunner.RunAsync("/usr/bin/python3", [script], env, aio.Root, TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"boto3 script exited {exit}: {stdout} {stderr}");
        Assert.Contains("listed 2500", stdout);
        Assert.Contains("ALL OK", stdout);
    }

    private const string Boto3Script = """
        import os, hashlib, concurrent.futures
        import boto3, requests
        from boto3.s3.transfer import TransferConfig
        s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"])
        work = os.environ["WORK"]
        s3.create_bucket(Bucket="boto")
        data = os.urandom(12 * 1024 * 1024 + 17)
        src = os.path.join(work, "up.bin")
        open(src, "wb").write(data)
        cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
        s3.upload_file(src, "boto", "multi/up.bin", Config=cfg)
        head = s3.head_object(Bucket="boto", Key="multi/up.bin")
        assert head["ETag"].endswith('-3"'), head["ETag"]
        assert head["ContentLength"] == len(data)
        dst = os.path.join(work, "down.bin")
        s3.download_file("boto", "multi/up.bin", dst, Config=cfg)
        assert open(dst, "rb").read() == data
        part = s3.get_object(Bucket="boto", Key="multi/up.bin", Range="bytes=100-199")["Body"].read()
        assert part == data[100:200]
        s3.copy_object(Bucket="boto", Key="copy.bin", CopySource={"Bucket": "boto", "Key": "multi/up.bin"})
        assert s3.get_object(Bucket="boto", Key="copy.bin")["Body"].read() == data
        def put(i):
            s3.put_object(Bucket="boto", Key="many/%05d" % i, Body=b"x%d" % i)
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(put, range(2500)))
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="boto", Prefix="many/", PaginationConfig={"PageSize": 1000}):
            keys += [o["Key"] for o in page.get("Contents", [])]
        assert keys == ["many/%05d" % i for i in range(2500)], len(keys)
        print("listed", len(keys))
        v1 = []
        for page in s3.get_paginator("list_objects").paginate(Bucket="boto", Prefix="many/"):
            v1 += [o["Key"] for o in page.get("Contents", [])]
        assert v1 == keys
        result = s3.delete_objects(Bucket="boto", Delete={"Objects": [{"Key": k} for k in keys[:1000]]})
        assert len(result["Deleted"]) == 1000, result.get("Errors")
        left = s3.list_objects_v2(Bucket="boto", Prefix="many/")["KeyCount"]
        assert left == 1000, left
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "boto", "Key": "presigned.txt"}, ExpiresIn=300)
        r = requests.put(url, data=b"put through a presigned url")
        assert r.status_code == 200, (r.status_code, r.text)
        assert s3.get_object(Bucket="boto", Key="presigned.txt")["Body"].read() == b"put through a presigned url"
        try:
            s3.get_object(Bucket="boto", Key="missing")
            raise SystemExit("missing key was found")
        except s3.exceptions.NoSuchKey:
            pass
        print("ALL OK")
        """;

    [Fact]
    public async Task S3cmd_makes_puts_gets_lists_and_deletes()
    {
        var work = Work("s3cmd");
        var port = new Uri(aio.Url).Port;
        string[] common =
        [
            "--access_key=test:tester", "--secret_key=testing", $"--host=127.0.0.1:{port}", $"--host-bucket=127.0.0.1:{port}",
            "--no-ssl", "--region=us-east-1", "--config=/dev/null",
        ];
        async Task<string> S3cmd(params string[] args)
        {
            var (exit, stdout, stderr) = await CliRunner.RunAsync("s3cmd", [.. common, .. args], new Dictionary<string, string> { ["HOME"] = aio.Root }, work);
            Assert.True(exit == 0, $"s3cmd {string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
            return stdout;
        }
        await File.WriteAllTextAsync(Path.Combine(work, "doc.txt"), "from s3cmd");
        await S3cmd("mb", "s3://s3cmd-bkt");
        await S3cmd("put", Path.Combine(work, "doc.txt"), "s3://s3cmd-bkt/doc.txt");
        Assert.Contains("s3://s3cmd-bkt/doc.txt", await S3cmd("ls", "s3://s3cmd-bkt"));
        Assert.Contains("s3://s3cmd-bkt", await S3cmd("ls"));
        await S3cmd("get", "s3://s3cmd-bkt/doc.txt", Path.Combine(work, "doc.out"));
        Assert.Equal("from s3cmd", await File.ReadAllTextAsync(Path.Combine(work, "doc.out")));
        // Anonymous readers get 403 until the object is made public, then its bytes.
        Assert.Equal(403, (await aio.CurlAsync($"{aio.Url}/s3cmd-bkt/doc.txt")).Status);
        await S3cmd("setacl", "--acl-public", "s3://s3cmd-bkt/doc.txt");
        var (status, body) = await aio.CurlAsync($"{aio.Url}/s3cmd-bkt/doc.txt");
        Assert.Equal(200, status);
        Assert.Equal("from s3cmd", await File.ReadAllTextAsync(body));
        await S3cmd("del", "s3://s3cmd-bkt/doc.txt");
        Assert.DoesNotContain("doc.txt", await S3cmd("ls", "s3://s3cmd-bkt"));
        await S3cmd("rb", "s3://s3cmd-bkt");
    }

    [Fact]
    public async Task Rclone_copies_a_tree_of_500_files_and_check_finds_no_differences()
    {
        var tree = Work("rclone-tree");
        for (var i = 0; i < 500; i++)
        {
            var dir = Path.Combine(tree, $"d{i % 10}");
            Directory.CreateDirectory(dir);
            await File.WriteAllBytesAsync(Path.Combine(dir, $"file{i}.bin"), RandomNumberGenerator.GetBytes(100 + i));
        }
        var env = new Dictionary<string, string>
        {
            ["RCLONE_CONFIG_SC_TYPE"] = "s3",
            ["RCLONE_CONFIG_SC_PROVIDER"] = "Other",
            ["RCLONE_CONFIG_SC_ACCESS_KEY_ID"] = "test:tester",
            ["RCLONE_CONFIG_SC_SECRET_ACCESS_KEY"] = "testing",
            ["RCLONE_CONFIG_SC_ENDPOINT"] = aio.Url,
            ["RCLONE_CONFIG_SC_REGION"] = "us-east-1",
            ["RCLONE_CONFIG"] = "/dev/null",
            ["HOME"] = aio.Root,
        };
        var (exit, stdout, stderr) = await CliRunner.RunAsync("rclone", ["copy", tree, "sc:rclone-bkt/tree", "--transfers", "8"], env, aio.Root, TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"rclone copy exited {exit}: {stdout} {stderr}");
        (exit, stdout, stderr) = await CliRunner.RunAsync("rclone", ["check", tree, "sc:rclone-bkt/tree"], env, aio.Root, TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"rclone check exited {exit}: {stdout} {stderr}");
        Assert.Contains("0 differences found", stderr);
        Assert.Contains("500 matching files", stderr);
    }
}
