// Feeding the embedding sample's model.tflite on Android (LiteRT) as edgeq calibrated it
// (edgeq.yaml: the zoo's minilm-l6 text): the model's own tokenizer.json (WordPiece,
// lower-cased; e.g. the HuggingFace tokenizers Android bindings or a WordPiece port),
// [CLS] ... [SEP] padded to 64 tokens: "input_ids" and "attention_mask" int64 [1, 64].
// "sentence_embedding" [1, 384] is unit length: cosine similarity is a dot product.
// Documented, not compiled here.
import org.tensorflow.lite.Interpreter
import java.nio.ByteBuffer

class SentenceEncoder(model: ByteBuffer, private val tokenize: (String) -> LongArray) {
    private val interpreter = Interpreter(model, Interpreter.Options().setNumThreads(1))

    fun embed(sentence: String): FloatArray {
        val ids = tokenize(sentence).copyOf(64)             // padded with 0 ([PAD])
        val mask = LongArray(64) { if (ids[it] != 0L) 1L else 0L }
        val out = Array(1) { FloatArray(384) }
        interpreter.runForMultipleInputsOutputs(arrayOf(arrayOf(ids), arrayOf(mask)), mapOf(0 to out))
        return out[0]
    }

    /** The index of the corpus sentence most similar to the query. */
    fun search(query: FloatArray, corpus: List<FloatArray>): Int =
        corpus.indices.maxBy { i -> corpus[i].indices.sumOf { (query[it] * corpus[i][it]).toDouble() } }
}
