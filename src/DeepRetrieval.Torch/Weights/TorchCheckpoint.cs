using System.IO.Compression;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// Reads state dicts from PyTorch checkpoints written by <c>torch.save</c> (PyTorch 1.6 and later): a zip archive holding
/// <c>&lt;root&gt;/data.pkl</c> (the pickled object) and <c>&lt;root&gt;/data/&lt;key&gt;</c> (one file per tensor storage).
/// The pickle is read by a reader that runs no code and accepts only the globals a saved state dict uses
/// (<c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c>, <c>torch._utils._rebuild_parameter</c>,
/// the <c>torch.*Storage</c> types, <c>torch.device</c>, <c>torch.Size</c>); any other global is an
/// <see cref="InvalidDataException"/> naming it. A state dict saved directly, or nested under <c>"state_dict"</c> (Lightning,
/// timm training checkpoints), <c>"model"</c> or <c>"module"</c>, is found automatically. Views into shared storages (offsets,
/// strides, transposes) are resolved and every returned tensor is a contiguous copy. Element types: float32, float64,
/// float16, bfloat16, int64, int32, int16, int8, uint8, bool.
/// </summary>
public static class TorchCheckpoint
{
    /// <summary>The keys under which training checkpoints nest their state dict, tried in this order.</summary>
    public static IReadOnlyList<string> NestedStateDictKeys { get; } = ["state_dict", "model", "module"];

    private static readonly Dictionary<string, ScalarType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = ScalarType.Float32, ["DoubleStorage"] = ScalarType.Float64, ["HalfStorage"] = ScalarType.Float16,
        ["BFloat16Storage"] = ScalarType.BFloat16, ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16, ["CharStorage"] = ScalarType.Int8, ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    // A state dict's pickle is a few bytes per tensor (ResNet-50's is 30 KB); a larger one is not a state dict.
    private const long MaxPickleLength = 256L << 20;

    // torch.save writes "little" or "big"; anything longer is not a byte-order entry.
    private const int MaxByteOrderLength = 16;

    // Deflate cannot expand data more than about 1032 times, so a declared size beyond that is a lie about the entry.
    private const long MaxDeflateRatio = 1032;

    /// <summary>Reads the state dict of a checkpoint into new contiguous CPU tensors, in the checkpoint's key order.</summary>
    /// <param name="path">A <c>.pt</c>/<c>.pth</c>/<c>.bin</c> file written by <c>torch.save</c>.</param>
    /// <param name="entry">
    /// The key of the nested state dict to read (e.g. <c>"state_dict_ema"</c>); null to use the object itself when it is a
    /// state dict, otherwise the first of <see cref="NestedStateDictKeys"/> it holds.
    /// </param>
    /// <returns>Tensors by name; the caller owns them.</returns>
    /// <exception cref="InvalidDataException">
    /// The file is not a zip checkpoint (legacy pre-1.6 files and TorchScript archives included), is corrupt, uses a global
    /// outside the allow-list, or holds no state dict; the message names the file and the problem.
    /// </exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IReadOnlyDictionary<string, Tensor> Load(string path, string? entry = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        CheckSignature(stream, path);
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: the checkpoint's zip structure is corrupt ({e.Message}).", e);
        }
        using (archive)
        {
            var pickleEntry = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length);
            if (pickleEntry is null)
            {
                bool torchScript = archive.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal));
                throw new InvalidDataException(torchScript
                    ? $"{path} is a TorchScript archive (torch.jit.save); save the module's state dict with torch.save(model.state_dict(), path) instead."
                    : $"{path}: the zip archive has no <root>/data.pkl, so it is not a torch.save checkpoint.");
            }
            string root = pickleEntry.FullName[..^"data.pkl".Length];
            CheckByteOrder(archive.GetEntry(root + "byteorder"), path);
            var storages = new StorageReader(archive, root, path);
            try
            {
                object? loaded = new Unpickler(ReadAll(pickleEntry, path), path, IsAllowedGlobal, storages.Rebuild, storages.PersistentLoad).Load();
                var stateDict = FindStateDict(loaded, entry, path);
                return ToTensors(stateDict, path);
            }
            finally
            {
                storages.Dispose();
            }
        }
    }

    private static void CheckSignature(FileStream stream, string path)
    {
        Span<byte> head = stackalloc byte[4];
        int read = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
            return;
        if (read >= 1 && head[0] == 0x80)
            throw new InvalidDataException(
                $"{path} is a legacy (pre-1.6, non-zip) PyTorch checkpoint, which is not supported; re-save it with a recent torch.save " +
                "(torch.save(torch.load(path), new_path)) or convert it to safetensors.");
        throw new InvalidDataException($"{path} is not a PyTorch checkpoint (torch.save writes a zip archive starting with 'PK').");
    }

    // PyTorch 2.1+ records the writer's byte order; older archives are little-endian.
    private static void CheckByteOrder(ZipArchiveEntry? entry, string path)
    {
        if (entry is null) return;
        if (entry.Length > MaxByteOrderLength)
            throw new InvalidDataException($"{path}: the checkpoint's byteorder entry declares {entry.Length} bytes; it holds \"little\" or \"big\".");
        // Read at most one byte more than allowed, whatever the entry declares: its data may be longer than its header says.
        var buffer = new byte[MaxByteOrderLength + 1];
        int read;
        using (var stream = OpenEntry(entry, path))
            read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read > MaxByteOrderLength)
            throw new InvalidDataException($"{path}: the checkpoint's byteorder entry holds more than {MaxByteOrderLength} bytes; it holds \"little\" or \"big\".");
        string order = System.Text.Encoding.ASCII.GetString(buffer, 0, read).Trim();
        if (order != "little")
            throw new InvalidDataException($"{path}: the checkpoint was written on a '{order}'-endian machine; only little-endian checkpoints are supported.");
    }

    private static byte[] ReadAll(ZipArchiveEntry entry, string path)
    {
        if (entry.Length > MaxPickleLength)
            throw new InvalidDataException($"{path}: {entry.FullName} has {entry.Length} bytes, too many for a state dict's pickle.");
        CheckDeclaredLength(entry, path);
        var bytes = new byte[entry.Length];
        using var stream = OpenEntry(entry, path);
        try { stream.ReadExactly(bytes); }
        catch (EndOfStreamException e) { throw new InvalidDataException($"{path}: {entry.FullName} ends early.", e); }
        return bytes;
    }

    // The sizes in a zip header are claims: bound the uncompressed one by what its compressed bytes can expand to, so that a
    // small file cannot make the reader allocate gigabytes before the data runs out.
    private static void CheckDeclaredLength(ZipArchiveEntry entry, string path)
    {
        long compressed = entry.CompressedLength;
        bool plausible = entry.Length == compressed || (compressed > 0 && entry.Length / compressed < MaxDeflateRatio);
        if (!plausible)
            throw new InvalidDataException($"{path}: {entry.FullName} declares {entry.Length} bytes from {compressed} compressed bytes, which no zip compression gives.");
    }

    private static Stream OpenEntry(ZipArchiveEntry entry, string path)
    {
        try
        {
            return entry.Open();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {entry.FullName} cannot be read ({e.Message}).", e);
        }
        catch (NotSupportedException e)
        {
            throw new InvalidDataException($"{path}: {entry.FullName} uses a zip feature that is not supported ({e.Message}).", e);
        }
    }

    private static bool IsAllowedGlobal(PickleGlobal global) => (global.Module, global.Name) switch
    {
        ("collections", "OrderedDict") => true,
        ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_parameter" or "_rebuild_parameter_with_state") => true,
        ("torch", "device" or "Size") => true,
        ("torch", var name) => StorageTypes.ContainsKey(name),
        _ => false,
    };

    private static PickleDict FindStateDict(object? loaded, string? entry, string path)
    {
        if (loaded is not PickleDict dict)
            throw new InvalidDataException($"{path}: the checkpoint holds a {Describe(loaded)}, not a state dict.");
        if (entry is not null)
        {
            return dict[entry] as PickleDict
                ?? throw new InvalidDataException($"{path}: the checkpoint has no state dict under '{entry}'; its keys are {Keys(dict)}.");
        }
        if (dict.Items.Count > 0 && dict.Items.All(kv => kv.Value is Tensor))
            return dict;
        foreach (string key in NestedStateDictKeys)
        {
            if (dict[key] is PickleDict nested)
                return nested;
        }
        if (dict.Items.Count == 0)
            return dict;
        throw new InvalidDataException($"{path}: the checkpoint is a dict that is neither a state dict nor holds one under {string.Join(", ", NestedStateDictKeys)}; its keys are {Keys(dict)}.");
    }

    private static OrderedDictionary<string, Tensor> ToTensors(PickleDict stateDict, string path)
    {
        var result = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in stateDict.Items)
        {
            if (key is not string name || value is not Tensor tensor)
                throw new InvalidDataException($"{path}: state-dict entry '{key}' holds a {Describe(value)}, not a tensor.");
            result.Add(name, tensor);
        }
        return result;
    }

    private static string Keys(PickleDict dict) => string.Join(", ", dict.Items.Select(kv => $"'{kv.Key}'"));

    private static string Describe(object? value) => value switch
    {
        null => "None",
        PickleDict => "dict",
        List<object?> => "list",
        object?[] => "tuple",
        Tensor => "tensor",
        _ => value.GetType().Name,
    };

    private sealed record StorageRef(string Key, ScalarType Type, long Count);

    /// <summary>Resolves persistent ids to storages (each read once) and the rebuild calls to tensors.</summary>
    private sealed class StorageReader(ZipArchive archive, string root, string path) : IDisposable
    {
        private readonly Dictionary<string, Tensor> _storages = new(StringComparer.Ordinal);

        public object? PersistentLoad(object? id)
        {
            // ('storage', torch.FloatStorage, key, location, element count)
            if (id is not object?[] { Length: 5 } tuple || tuple[0] is not "storage" || tuple[1] is not PickleGlobal type
                || tuple[2] is not string key || tuple[4] is not long count || count < 0)
                throw new InvalidDataException($"{path}: a persistent id is not a ('storage', type, key, location, size) tuple.");
            if (!StorageTypes.TryGetValue(type.Name, out var scalarType) || type.Module != "torch")
                throw new InvalidDataException($"{path}: storage type '{type}' is not supported.");
            return new StorageRef(key, scalarType, count);
        }

        public object? Rebuild(PickleGlobal global, object?[] args)
        {
            switch (global.Module, global.Name)
            {
                case ("collections", "OrderedDict"):
                    return new PickleDict();
                case ("torch", "device"):
                    return args.Length > 0 ? args[0] : null;
                case ("torch", "Size"):
                    return args.Length > 0 ? args[0] : Array.Empty<object?>();
                case ("torch._utils", "_rebuild_tensor_v2"):
                    return RebuildTensor(args);
                case ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state"):
                    return args.Length >= 1 && args[0] is Tensor data ? data : throw new InvalidDataException($"{path}: {global} is not given a tensor.");
                default:
                    throw new InvalidDataException($"{path}: the checkpoint calls '{global}', which a state dict does not use.");
            }
        }

        private Tensor RebuildTensor(object?[] args)
        {
            // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            if (args.Length < 4 || args[0] is not StorageRef storage || args[1] is not long offset
                || args[2] is not object?[] sizeTuple || args[3] is not object?[] strideTuple || sizeTuple.Length != strideTuple.Length)
                throw new InvalidDataException($"{path}: a tensor's _rebuild_tensor_v2 arguments are malformed.");
            long[] size = sizeTuple.Select(v => v is long l && l >= 0 ? l : -1).ToArray();
            long[] stride = strideTuple.Select(v => v is long l && l >= 0 ? l : -1).ToArray();
            if (size.Any(s => s < 0) || stride.Any(s => s < 0) || offset < 0)
                throw new InvalidDataException($"{path}: tensor of storage '{storage.Key}' has a negative size, stride or offset.");
            long? count = TensorBytes.ElementCount(size);
            if (count is null)
                throw new InvalidDataException($"{path}: tensor of storage '{storage.Key}' has a size that overflows.");
            if (count > 0)
            {
                long last = offset;
                try
                {
                    for (int i = 0; i < size.Length; i++) last = checked(last + (size[i] - 1) * stride[i]);
                }
                catch (OverflowException)
                {
                    last = long.MaxValue;
                }
                if (last >= storage.Count)
                    throw new InvalidDataException($"{path}: a view of storage '{storage.Key}' reaches element {last}, past its {storage.Count} elements.");
            }
            var data = Storage(storage);
            // A compact copy: the storage may be much larger than the view, and it is disposed after loading.
            using var view = data.as_strided(size, stride, offset);
            return view.is_contiguous() ? view.clone() : view.contiguous();
        }

        private Tensor Storage(StorageRef storage)
        {
            if (_storages.TryGetValue(storage.Key, out var cached))
            {
                if (cached.dtype != storage.Type || cached.numel() != storage.Count)
                    throw new InvalidDataException($"{path}: storage '{storage.Key}' is referenced with two different types or sizes.");
                return cached;
            }
            var entry = archive.GetEntry($"{root}data/{storage.Key}")
                ?? throw new InvalidDataException($"{path}: storage '{storage.Key}' is missing from the archive ({root}data/{storage.Key}).");
            // Checked: a count of 2^62 four-byte elements must not wrap to a small byte count that matches the entry.
            long elementSize = TensorBytes.ElementSize(storage.Type);
            if (storage.Count > long.MaxValue / elementSize || entry.Length != storage.Count * elementSize)
                throw new InvalidDataException($"{path}: storage '{storage.Key}' has {entry.Length} bytes, not the {storage.Count} {storage.Type} elements its reference declares.");
            CheckDeclaredLength(entry, path);
            using var stream = OpenEntry(entry, path);
            var tensor = TensorBytes.Read(stream, [storage.Count], storage.Type, path, $"storage {storage.Key}");
            _storages.Add(storage.Key, tensor);
            return tensor;
        }

        public void Dispose()
        {
            foreach (var storage in _storages.Values) storage.Dispose();
        }
    }
}
