// Android build-step integration (Gradle, Kotlin DSL): runs `edgeq build --config
// edgeq.yaml --profile` before the app is compiled and packages the artifact as an asset.
// A missed gate makes edgeq exit with status 3, which fails this task and the build.
//
// In app/build.gradle.kts, with the app's edgeq.yaml under ml/:
//
//     extra["edgeqConfig"] = rootProject.file("ml/edgeq.yaml")
//     apply(from = rootProject.file("ml/edgeq.gradle.kts"))
//
// `edgeq` must be on the PATH of the build (pip install edgeq in the CI image, or
// set EDGEQ to the executable). Documented here; not compiled by edgeq's tests.

val edgeqConfig = extra["edgeqConfig"] as File
val edgeqOut = File(edgeqConfig.parentFile, "build/tflite")

val edgeqBuild = tasks.register<Exec>("edgeqBuild") {
    group = "edgeq"
    description = "Quantize the model with edgeq, build the .tflite and check its gates"
    workingDir = edgeqConfig.parentFile
    executable = System.getenv("EDGEQ") ?: "edgeq"
    args("build", "--config", edgeqConfig.name, "--target", "tflite", "--profile",
         "--junit", "build/edgeq-gates.xml")
    inputs.file(edgeqConfig)
    outputs.dir(edgeqOut)
}

tasks.named("preBuild") { dependsOn(edgeqBuild) }

extensions.configure<com.android.build.api.dsl.ApplicationExtension> {
    sourceSets.getByName("main").assets.srcDir(edgeqOut)   // model.tflite, manifest.json
    androidResources.noCompress += "tflite"
}
