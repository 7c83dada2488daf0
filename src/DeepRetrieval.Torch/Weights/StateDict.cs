using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Weights;

/// <summary>
/// Copies pretrained tensors into any module's parameters and buffers (PyTorch's <c>load_state_dict</c> with a report and a
/// key mapping): keys are mapped with a <see cref="KeyMapping"/>, compared with the module's <c>state_dict()</c>, and the
/// matching tensors are copied under <c>no_grad</c> into the existing parameters and buffers, converting the element type
/// (a float16 checkpoint loads into a float32 module) and the device. Strict loading copies nothing unless every module key
/// is present with the right shape and no key is left over; non-strict loading copies what matches and reports the rest.
/// A missing <c>num_batches_tracked</c> buffer is not reported, as in PyTorch, because checkpoints from before it existed lack it.
/// </summary>
public static class StateDict
{
    /// <summary>The <c>Exception.Data</c> key under which a strict load's exception carries its <see cref="StateDictLoadReport"/>.</summary>
    public const string ReportDataKey = "StateDictLoadReport";

    /// <summary>Loads <paramref name="tensors"/> into <paramref name="module"/>.</summary>
    /// <param name="module">The receiving module; its parameters keep their identity (optimisers built on them stay valid).</param>
    /// <param name="tensors">Checkpoint tensors by key.</param>
    /// <param name="mapping">Key mapping; null for <see cref="KeyMapping.Identity"/>.</param>
    /// <param name="strict">Throw unless the checkpoint matches the module exactly (after mapping).</param>
    /// <param name="source">Named in error messages (e.g. the file name).</param>
    /// <returns>What was loaded, missing, unexpected, mismatched and dropped.</returns>
    /// <exception cref="InvalidDataException">
    /// strict is true and the report is not exact; nothing was copied. The message lists every problem key and
    /// <c>Data[<see cref="ReportDataKey"/>]</c> holds the <see cref="StateDictLoadReport"/>.
    /// </exception>
    /// <exception cref="ArgumentException">Two checkpoint keys map to the same module key.</exception>
    public static StateDictLoadReport Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, KeyMapping? mapping = null, bool strict = true, string source = "The state dict")
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(tensors);
        mapping ??= KeyMapping.Identity;
        var target = module.state_dict();
        var mapped = new Dictionary<string, (string Original, Tensor Value)>(StringComparer.Ordinal);
        var dropped = new List<string>();
        var unexpected = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        var loaded = new List<string>();
        foreach (var (key, value) in tensors)
        {
            ArgumentNullException.ThrowIfNull(value, key);
            string? name = mapping.Map(key);
            if (name is null)
            {
                dropped.Add(key);
                continue;
            }
            if (!mapped.TryAdd(name, (key, value)))
                throw new ArgumentException($"Checkpoint keys '{mapped[name].Original}' and '{key}' both map to '{name}'.", nameof(mapping));
            if (!target.TryGetValue(name, out var destination))
                unexpected.Add(name);
            else if (!destination.shape.SequenceEqual(value.shape))
                mismatched.Add(new ShapeMismatch(name, destination.shape, value.shape));
            else
                loaded.Add(name);
        }
        var missing = target.Keys
            .Where(k => !mapped.ContainsKey(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .ToList();
        var report = new StateDictLoadReport(loaded, missing, unexpected, mismatched, dropped);
        if (strict && !report.IsExact)
            throw new InvalidDataException($"{source} does not match the module: {report}") { Data = { [ReportDataKey] = report } };
        using (no_grad())
        {
            foreach (string name in loaded)
                target[name].copy_(mapped[name].Value);
        }
        return report;
    }

    /// <summary>
    /// Loads a weight file into <paramref name="module"/>: safetensors (<c>.safetensors</c>) or a <c>torch.save</c> checkpoint
    /// (any other name; a nested <c>"state_dict"</c>/<c>"model"</c> is found automatically). The file's tensors are disposed afterwards.
    /// </summary>
    /// <param name="module">The receiving module.</param>
    /// <param name="path">The weight file.</param>
    /// <param name="mapping">Key mapping; null for <see cref="KeyMapping.Identity"/>.</param>
    /// <param name="strict">Throw unless the file matches the module exactly (after mapping).</param>
    /// <returns>What was loaded, missing, unexpected, mismatched and dropped.</returns>
    /// <exception cref="InvalidDataException">The file is corrupt, or (strict) does not match; the message names the file.</exception>
    public static StateDictLoadReport LoadFile(nn.Module module, string path, KeyMapping? mapping = null, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var tensors = path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            ? SafeTensors.Load(path).Tensors
            : TorchCheckpoint.Load(path);
        try
        {
            return Load(module, tensors, mapping, strict, path);
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }
}
