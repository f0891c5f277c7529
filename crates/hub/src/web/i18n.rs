//! The pages' words in English and Spanish: one table, each message in both languages side by
//! side, so no message can exist in one catalogue only (a test also checks that every key the
//! pages use is here and that no Spanish text was left in English by mistake).

use std::collections::HashMap;
use std::sync::LazyLock;

pub use model::lang::Lang;

/// The pages' messages in a language: `lang.t(KEY)`, `lang.f(KEY, &[ARGS])`.
pub trait Words {
    /// The message `key` in this language (the key itself if there is no such message: a test
    /// makes sure every key used exists).
    fn t(self, key: &'static str) -> &'static str;

    /// The message `key` with `{0}`, `{1}`, ... replaced by `args` ([`model::lang::fill`]).
    fn f(self, key: &'static str, args: &[&str]) -> String;
}

impl Words for Lang {
    fn t(self, key: &'static str) -> &'static str {
        INDEX.get(key).map_or(key, |&(en, es)| self.pick(en, es))
    }

    fn f(self, key: &'static str, args: &[&str]) -> String {
        model::lang::fill(self.t(key), args)
    }
}

static INDEX: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| MESSAGES.iter().map(|&(k, en, es)| (k, (en, es))).collect());

/// Every message: key, English, Spanish.
pub const MESSAGES: &[(&str, &str, &str)] = &[
    // Layout.
    ("skip", "Skip to content", "Ir al contenido"),
    ("nav.main", "Main", "Principal"),
    ("nav.home", "Home", "Inicio"),
    ("nav.transparency", "Transparency report", "Informe de transparencia"),
    ("nav.agencies", "Agencies", "Agencias"),
    ("nav.laws", "Law library", "Biblioteca de leyes"),
    ("nav.verify", "Verify a receipt", "Verificar un recibo"),
    ("nav.console", "Console", "Consola"),
    ("nav.login", "Log in", "Iniciar sesión"),
    ("nav.language", "Language", "Idioma"),
    (
        "footer.text",
        "FusionGuard decides, records and reports access to police data sharing. Every number on these pages is counted from the hub's public, verifiable ledger.",
        "FusionGuard decide, registra e informa sobre el acceso a los datos que comparten las policías. Cada cifra de estas páginas se cuenta a partir del registro público y verificable del hub.",
    ),
    ("footer.ledger", "Public ledger", "Registro público"),
    // The transparency report's own page (its words are the report's: oversight::transparency).
    ("report.nav", "Portal and language", "Portal e idioma"),
    ("report.home", "FusionGuard portal home", "Inicio del portal de FusionGuard"),
    // Home.
    ("home.title", "Police data sharing, under the law and in the open", "Datos policiales compartidos, conforme a la ley y a la vista"),
    (
        "home.lead",
        "This hub stands between agencies that ask for data (driver records, licence-plate reads, police records) and the agencies that hold it. Every request is decided by the laws that bind the data, recorded in a tamper-evident public ledger before anything is released, and counted here.",
        "Este hub se sitúa entre las agencias que piden datos (registros de conducir, lecturas de matrículas, expedientes policiales) y las agencias que los guardan. Cada solicitud se decide según las leyes que protegen los datos, se anota en un registro público a prueba de manipulación antes de entregar nada, y se cuenta aquí.",
    ),
    ("home.year", "This year, {0}", "Este año, {0}"),
    ("home.counted", "Counted from the ledger checkpoint of {0} entries.", "Contado a partir del punto de control del registro con {0} entradas."),
    ("home.explore", "Explore", "Explorar"),
    ("home.transparency.desc", "The annual report: uses, sharing, denials and reviews, with charts and data.", "El informe anual: usos, datos compartidos, denegaciones y revisiones, con gráficos y datos."),
    ("home.agencies.desc", "Each agency: the data it holds, the laws that protect it, who asked for it.", "Cada agencia: los datos que guarda, las leyes que los protegen, quién los pidió."),
    ("home.laws.desc", "Every rule the hub enforces, with its legal citation and how far it was verified.", "Cada regla que aplica el hub, con su cita legal y hasta dónde se verificó."),
    ("home.verify.desc", "Check in your own browser that a decision is in the public ledger.", "Compruebe en su propio navegador que una decisión está en el registro público."),
    // Counts.
    ("count.requests", "Requests decided", "Solicitudes decididas"),
    ("count.permit", "Permitted", "Permitidas"),
    ("count.deny", "Denied", "Denegadas"),
    ("count.review", "Held for review", "Retenidas para revisión"),
    ("count.outside", "From agencies other than the owner", "De agencias distintas de la propietaria"),
    ("count.outside_released", "Of which released", "De las cuales se entregaron"),
    ("count.measure", "Measure", "Medida"),
    ("count.value", "Number", "Número"),
    ("updated", "Last updated: checkpoint of {0} entries.", "Última actualización: punto de control de {0} entradas."),
    // Requests between hubs (a federation's hub only).
    ("hubs.title", "Requests between hubs, {0}", "Solicitudes entre centros, {0}"),
    (
        "hubs.lead",
        "This hub belongs to a federation of hubs: a request for a source another hub serves is decided here by the law that binds this hub, sent to that hub and decided there again; requests from the other hubs are decided here. Both hubs record each request in their public ledgers.",
        "Este centro forma parte de una federación de centros: una solicitud sobre una fuente que sirve otro centro se decide aquí según la ley que obliga a este centro, se envía a ese centro y allí se decide de nuevo; las solicitudes de los demás centros se deciden aquí. Ambos centros anotan cada solicitud en sus registros públicos.",
    ),
    ("hubs.peer", "Hub", "Centro"),
    ("hubs.sent", "Sent to it (decided here)", "Enviadas a él (decididas aquí)"),
    ("hubs.received", "Received from it (decided here)", "Recibidas de él (decididas aquí)"),
    ("hubs.forward_failed", "Failed forwards", "Reenvíos fallidos"),
    ("hubs.refused", "Refused envelopes", "Sobres rechazados"),
    ("hubs.unknown", "Senders not in the federation", "Remitentes ajenos a la federación"),
    // Agencies.
    ("agencies.title", "Agencies", "Agencias"),
    ("agencies.lead", "Every agency of this deployment, and what was asked of its data and by it this year.", "Todas las agencias de este despliegue, y lo que se pidió de sus datos y lo que pidió este año."),
    ("agency.name", "Agency", "Agencia"),
    ("agency.kind", "Kind", "Tipo"),
    ("agency.jurisdiction", "Jurisdiction", "Jurisdicción"),
    ("agency.sources", "Sources it holds", "Fuentes que guarda"),
    ("agency.no_sources", "This agency holds no source on this hub.", "Esta agencia no guarda ninguna fuente en este hub."),
    ("agency.source", "Source", "Fuente"),
    ("agency.category", "Data", "Datos"),
    ("agency.laws", "Laws that apply to its data", "Leyes que se aplican a sus datos"),
    ("agency.on_data", "Requests on its data, {0}", "Solicitudes sobre sus datos, {0}"),
    ("agency.by_it", "Requests it made, {0}", "Solicitudes que hizo, {0}"),
    ("agency.recipients", "Outside recipients of its data, by kind, {0}", "Destinatarios externos de sus datos, por tipo, {0}"),
    ("agency.no_recipients", "No agency outside it asked for its data this year.", "Ninguna agencia externa pidió sus datos este año."),
    ("agency.recipient_kind", "Kind of recipient", "Tipo de destinatario"),
    ("agency.immigration", "Immigration role", "Función migratoria"),
    ("agency.not_found", "There is no agency with that id.", "No hay ninguna agencia con ese identificador."),
    // Laws.
    ("laws.title", "Law library", "Biblioteca de leyes"),
    (
        "laws.lead",
        "Every policy the checkpoint decides with: the law it enforces, the section it cites, when it applies, and how far its text was verified. Counts are this year's decisions that cited it.",
        "Cada política con la que decide el punto de control: la ley que aplica, la sección que cita, desde cuándo rige y hasta dónde se verificó su texto. Los recuentos son las decisiones de este año que la citaron.",
    ),
    ("laws.filter", "Jurisdiction", "Jurisdicción"),
    ("laws.all", "All jurisdictions", "Todas las jurisdicciones"),
    ("laws.apply", "Filter", "Filtrar"),
    ("laws.policy", "Policy", "Política"),
    ("laws.citation", "Citation", "Cita"),
    ("laws.summary", "Summary", "Resumen"),
    ("laws.outcome", "Outcome", "Resultado"),
    ("laws.effective", "In force", "Vigencia"),
    ("laws.from", "from {0}", "desde {0}"),
    ("laws.until", "{0} to {1}", "del {0} al {1}"),
    ("laws.verified", "Verified", "Verificación"),
    ("laws.cited", "Cited this year", "Citada este año"),
    ("laws.cedar", "The rule as the checkpoint runs it (Cedar)", "La regla tal como la ejecuta el punto de control (Cedar)"),
    ("laws.decisions", "Decisions of {0} that cited it", "Decisiones de {0} que la citaron"),
    ("laws.not_found", "There is no policy with that id.", "No hay ninguna política con ese identificador."),
    ("laws.template", "Model agreement (applies where a data owner adopted it)", "Acuerdo modelo (se aplica donde el propietario de los datos lo adoptó)"),
    ("laws.count", "{0} policies", "{0} políticas"),
    ("outcome.forbid", "Deny", "Denegar"),
    ("outcome.permit", "Permit", "Permitir"),
    ("outcome.review", "Hold for a supervisor's review", "Retener para revisión de un supervisor"),
    ("outcome.floor", "Release a restricted part", "Entregar una parte restringida"),
    ("outcome.obligation", "Attach obligations", "Añadir obligaciones"),
    ("verified.text", "Text read", "Texto leído"),
    ("verified.summary", "Summary only", "Solo un resumen"),
    ("verified.unverified", "Not verified", "Sin verificar"),
    ("verified.read_on", "read on {0}", "leído el {0}"),
    ("verified.source", "source", "fuente"),
    // Verify.
    ("verify.title", "Verify a receipt", "Verificar un recibo"),
    (
        "verify.lead",
        "Every decision the hub makes gets a receipt: its index in the public ledger, the signed checkpoint, and a proof that the entry is in the log. Paste a receipt (the JSON the hub returns with a decision, or from /v1/ledger/proof/INDEX) or just a ledger index, and check it.",
        "Cada decisión del hub recibe un recibo: su índice en el registro público, el punto de control firmado y una prueba de que la entrada está en el registro. Pegue un recibo (el JSON que el hub devuelve con una decisión, o el de /v1/ledger/proof/ÍNDICE) o solo un índice del registro, y compruébelo.",
    ),
    ("verify.receipt", "Receipt or ledger index", "Recibo o índice del registro"),
    ("verify.receipt_hint", "A number such as 42, or the receipt's JSON.", "Un número como 42, o el JSON del recibo."),
    ("verify.vkey", "Verifier key", "Clave de verificación"),
    (
        "verify.vkey_hint",
        "This hub's published key. To trust no one, paste the key you obtained elsewhere (for example from a witness or the agency's website).",
        "La clave publicada por este hub. Para no depender de nadie, pegue la clave que obtuvo por otra vía (por ejemplo de un testigo o del sitio web de la agencia).",
    ),
    ("verify.submit", "Verify", "Verificar"),
    ("verify.ok", "Verified", "Verificado"),
    ("verify.bad", "Not verified", "No verificado"),
    ("verify.in_browser", "Checked in your browser.", "Comprobado en su navegador."),
    ("verify.by_server", "Checked by the hub. With JavaScript on, pressing Verify checks it again in your own browser.", "Comprobado por el hub. Con JavaScript activado, al pulsar Verificar se comprueba de nuevo en su propio navegador."),
    ("verify.ok_detail", "Entry {0} is in the ledger {1}, whose checkpoint of {2} entries is signed by the key given.", "La entrada {0} está en el registro {1}, cuyo punto de control de {2} entradas está firmado por la clave indicada."),
    ("verify.reason.signature", "The checkpoint's signature does not verify: it was changed after signing.", "La firma del punto de control no es válida: se modificó después de firmarse."),
    ("verify.reason.other_key", "The checkpoint is not signed by the verifier key given.", "El punto de control no está firmado con la clave de verificación indicada."),
    ("verify.reason.proof", "The inclusion proof does not lead to the checkpoint's root: a proof hash was changed, or the entry is not in this log.", "La prueba de inclusión no conduce a la raíz del punto de control: se modificó un hash de la prueba, o la entrada no está en este registro."),
    ("verify.reason.entry", "The entry is not in the log at that index (it is past the checkpoint, or its data does not match).", "La entrada no está en el registro en ese índice (está más allá del punto de control, o sus datos no coinciden)."),
    ("verify.reason.fetch", "The ledger's files could not be read from the hub.", "No se pudieron leer los archivos del registro desde el hub."),
    ("verify.reason.format", "This is neither a ledger index nor a receipt.", "Esto no es ni un índice del registro ni un recibo."),
    (
        "verify.reason.pending",
        "The entry is in the ledger but newer than its latest signed checkpoint; the hub publishes one within seconds. Try again shortly.",
        "La entrada está en el registro pero es más reciente que su último punto de control firmado; el hub publica uno en segundos. Vuelva a intentarlo en un momento.",
    ),
    ("verify.reason.key", "The verifier key is not a valid key.", "La clave de verificación no es válida."),
    // Errors.
    ("error.title", "Something is wrong", "Algo no va bien"),
    ("error.not_found", "There is no such page.", "No existe esa página."),
    ("error.back", "Back to the home page", "Volver a la página de inicio"),
    // Console.
    ("console.title", "Console", "Consola"),
    ("login.title", "Log in to the console", "Iniciar sesión en la consola"),
    (
        "login.lead",
        "Agency users log in with the access token their administrator issued (fusionguard token issue). The session ends when the token expires or is revoked, or when you log out.",
        "Los usuarios de las agencias inician sesión con el token de acceso que les dio su administrador (fusionguard token issue). La sesión termina cuando el token caduca o se revoca, o cuando usted cierra la sesión.",
    ),
    ("login.token", "Access token", "Token de acceso"),
    ("login.submit", "Log in", "Iniciar sesión"),
    ("login.cert", "Log in with your client certificate", "Iniciar sesión con su certificado de cliente"),
    ("login.cert_lead", "Your connection presents the certificate of {0} ({1}, {2}).", "Su conexión presenta el certificado de {0} ({1}, {2})."),
    ("login.bad", "That token is not valid: {0}", "Ese token no es válido: {0}"),
    ("login.empty", "Enter your access token.", "Escriba su token de acceso."),
    ("login.expired", "Your session has ended. Log in again.", "Su sesión ha terminado. Inicie sesión de nuevo."),
    ("login.full", "Too many people are logged in to this hub right now; try again in a few minutes.", "Hay demasiadas personas con sesión abierta en este hub ahora; inténtelo de nuevo en unos minutos."),
    ("logout", "Log out", "Cerrar sesión"),
    ("console.signed_in", "Signed in as {0} ({1}, {2})", "Sesión de {0} ({1}, {2})"),
    ("console.nav", "Console", "Consola"),
    ("console.new", "New request", "Nueva solicitud"),
    ("console.mine", "My requests", "Mis solicitudes"),
    ("console.reviews", "Reviews", "Revisiones"),
    ("console.notifications", "Notifications", "Notificaciones"),
    ("console.ledger", "Ledger", "Registro"),
    ("console.welcome", "What would you like to do?", "¿Qué desea hacer?"),
    ("csrf.bad", "This form has expired or did not come from this site. Reload the page and try again.", "Este formulario ha caducado o no procede de este sitio. Vuelva a cargar la página e inténtelo de nuevo."),
    // Request form.
    ("req.title", "New request", "Nueva solicitud"),
    (
        "req.lead",
        "Ask for data the way the API does. \"Preview decision\" shows what the law library would decide, without recording anything and without the subject. \"Submit request\" records the decision in the ledger before any data is released.",
        "Pida datos igual que con la API. \"Ver la decisión\" muestra lo que decidiría la biblioteca de leyes, sin registrar nada y sin la persona buscada. \"Enviar solicitud\" anota la decisión en el registro antes de entregar ningún dato.",
    ),
    ("req.source", "Source", "Fuente"),
    ("req.action", "Action", "Acción"),
    ("req.purpose", "Purpose", "Finalidad"),
    ("req.justification", "Justification", "Justificación"),
    ("req.justification_hint", "Why you need the data, in your own words. It is read for hidden immigration purposes and kept only as a keyed hash.", "Por qué necesita los datos, con sus palabras. Se analiza en busca de fines migratorios ocultos y solo se guarda como un hash con clave."),
    ("req.case", "Case number", "Número de caso"),
    ("req.basis", "Legal basis", "Base legal"),
    ("req.basis_kind", "Kind of legal basis", "Tipo de base legal"),
    ("req.basis_ref", "Reference (docket or warrant number)", "Referencia (número de expediente u orden)"),
    ("req.basis_issuer", "Issued by", "Emitida por"),
    ("req.subject", "Subject", "Persona o vehículo buscado"),
    ("req.subject_kind", "Kind of subject", "Tipo"),
    ("req.subject_value", "Value", "Valor"),
    ("req.fields", "Fields wanted (none checked: every field)", "Campos pedidos (ninguno marcado: todos)"),
    ("req.certifications", "Certifications your agency makes", "Certificaciones que hace su agencia"),
    ("req.chain", "On behalf of (forwarding chain, originator first)", "En nombre de (cadena de reenvío, el originador primero)"),
    ("req.chain_agency", "Agency {0}", "Agencia {0}"),
    ("req.chain_user", "User {0}", "Usuario {0}"),
    ("req.none", "(none)", "(ninguno)"),
    ("req.preview", "Preview decision", "Ver la decisión"),
    ("req.submit", "Submit request", "Enviar solicitud"),
    ("req.preview_title", "Preview: what the law library would decide", "Vista previa: lo que decidiría la biblioteca de leyes"),
    ("req.preview_note", "Nothing was recorded and no data was read.", "No se registró nada ni se leyó ningún dato."),
    ("req.result_title", "Decision", "Decisión"),
    ("req.reasons", "Why", "Por qué"),
    ("req.obligations", "Obligations", "Obligaciones"),
    ("req.data", "Data released", "Datos entregados"),
    ("req.no_data", "No record matched.", "Ningún registro coincide."),
    ("req.receipt", "Receipt: ledger entry {0}.", "Recibo: entrada {0} del registro."),
    ("req.verify_link", "Verify this receipt", "Verificar este recibo"),
    ("req.review_note", "The request waits for a supervisor of the agency that owns the data. Its status is on the My requests page.", "La solicitud espera a un supervisor de la agencia propietaria de los datos. Su estado aparece en la página Mis solicitudes."),
    ("req.errors", "The request could not be sent:", "No se pudo enviar la solicitud:"),
    ("req.missing_cert", "Missing certification: {0}", "Falta la certificación: {0}"),
    ("decision.permit", "Permitted", "Permitida"),
    ("decision.deny", "Denied", "Denegada"),
    ("decision.review", "Held for review", "Retenida para revisión"),
    // My requests.
    ("mine.title", "My requests", "Mis solicitudes"),
    ("mine.lead", "The latest requests you made through the console, newest first, with their status. An approved review's data can be fetched here once.", "Las últimas solicitudes que hizo desde la consola, de la más reciente a la más antigua, con su estado. Los datos de una revisión aprobada se pueden obtener aquí."),
    ("mine.none", "You have made no request yet.", "Todavía no ha hecho ninguna solicitud."),
    ("mine.when", "When", "Cuándo"),
    ("mine.status", "Status", "Estado"),
    ("mine.fetch", "Fetch the approved data", "Obtener los datos aprobados"),
    ("mine.unlisted", "The hub could not add this request to My requests; keep its receipt below.", "El hub no pudo añadir esta solicitud a Mis solicitudes; conserve el recibo que aparece abajo."),
    ("mine.unavailable", "Your requests cannot be read now; retry later.", "Sus solicitudes no se pueden leer ahora; inténtelo más tarde."),
    ("status.pending", "Waiting for review", "Esperando revisión"),
    ("status.approved", "Approved", "Aprobada"),
    ("status.denied", "Denied on review", "Denegada en la revisión"),
    ("status.expired", "Approval expired", "Aprobación caducada"),
    // Reviews.
    ("reviews.title", "Reviews", "Revisiones"),
    ("reviews.lead", "Requests for your agency's data that the law holds for a supervisor. Each verdict is recorded in the ledger; you cannot decide a request you made or forwarded.", "Solicitudes de datos de su agencia que la ley retiene para un supervisor. Cada veredicto se anota en el registro; no puede decidir una solicitud que usted hizo o reenvió."),
    ("reviews.none", "Nothing waits for review.", "No hay nada pendiente de revisión."),
    ("reviews.not_supervisor", "Only a supervisor of the agency that owns the data reviews requests.", "Solo un supervisor de la agencia propietaria de los datos revisa solicitudes."),
    ("reviews.requester", "Requester", "Solicitante"),
    ("reviews.chain", "Forwarded for", "Reenviada en nombre de"),
    ("reviews.age", "Waiting since", "Esperando desde"),
    ("reviews.signals", "Signals in the justification", "Señales en la justificación"),
    ("reviews.reason", "Reason", "Motivo"),
    ("reviews.approve", "Approve", "Aprobar"),
    ("reviews.deny", "Deny", "Denegar"),
    ("reviews.done", "Your verdict is recorded at ledger entry {0}.", "Su veredicto quedó registrado en la entrada {0} del registro."),
    // Notifications.
    ("notes.title", "Notifications", "Notificaciones"),
    ("notes.lead", "Notices the law says your agency owes the people whose records were requested, with their due dates.", "Avisos que la ley obliga a su agencia a dar a las personas cuyos registros se pidieron, con sus plazos."),
    ("notes.none", "No notice is owed.", "No se debe ningún aviso."),
    ("notes.person", "Person", "Persona"),
    ("notes.due", "Due", "Plazo"),
    ("notes.asked_by", "Asked by", "Pedido por"),
    ("notes.method", "How it was sent", "Cómo se envió"),
    ("notes.mark", "Mark sent", "Marcar como enviado"),
    ("notes.done", "Recorded as sent at ledger entry {0}.", "Registrado como enviado en la entrada {0} del registro."),
    // Auditor.
    ("console.audit", "Audit a public-records file", "Auditar un archivo de registros públicos"),
    ("audit.not_auditor", "Only an auditor (role auditor) uses this page.", "Solo un auditor (rol auditor) usa esta página."),
    ("audit.title", "Audit a public-records file", "Auditar un archivo de registros públicos"),
    (
        "audit.lead",
        "Upload a file an agency released (a search audit, a sharing list, an email production, an intelligence export). It is read once, for this request, and not kept; the findings stay in your session until your next upload or until you log out.",
        "Suba un archivo que publicó una agencia (una auditoría de búsquedas, una lista de intercambio, una producción de correos, una exportación de inteligencia). Se lee una vez, para esta petición, y no se guarda; los hallazgos quedan en su sesión hasta la siguiente subida o hasta que cierre la sesión.",
    ),
    ("audit.kind", "Kind of file", "Tipo de archivo"),
    ("audit.kind.searches", "ALPR search audit (CSV)", "Auditoría de búsquedas de matrículas (CSV)"),
    ("audit.kind.sharing", "Sharing list (CSV)", "Lista de intercambio (CSV)"),
    ("audit.kind.emails", "Email production (mbox, .eml or Outlook CSV)", "Producción de correos (mbox, .eml o CSV de Outlook)"),
    ("audit.kind.intelligence", "Criminal intelligence export (CSV)", "Exportación de inteligencia criminal (CSV)"),
    ("audit.file", "File", "Archivo"),
    ("audit.file_hint", "Up to {0} MiB.", "Hasta {0} MiB."),
    ("audit.submit", "Audit", "Auditar"),
    ("audit.result", "Findings in {0}", "Hallazgos en {0}"),
    ("audit.summary", "{0} records read, {1} findings ({2}).", "{0} registros leídos, {1} hallazgos ({2})."),
    ("audit.html", "Download the evidence report (HTML)", "Descargar el informe de pruebas (HTML)"),
    ("audit.csv", "Download the findings as CSV", "Descargar los hallazgos en CSV"),
    ("audit.jsonl", "Download the findings as JSON lines", "Descargar los hallazgos en líneas JSON"),
    ("audit.by_detector", "Findings by detector and severity", "Hallazgos por detector y gravedad"),
    ("audit.findings", "Findings, most severe first", "Hallazgos, los más graves primero"),
    ("audit.severity", "Severity", "Gravedad"),
    ("audit.detector", "Detector", "Detector"),
    ("audit.record", "Record", "Registro"),
    ("audit.evidence", "Evidence", "Evidencia"),
    ("audit.rule", "Rule and citation", "Regla y cita"),
    ("audit.line", "line", "línea"),
    ("audit.pages", "Pages of findings", "Páginas de hallazgos"),
    ("audit.page", "Page {0} of {1}.", "Página {0} de {1}."),
    ("audit.prev", "Previous page", "Página anterior"),
    ("audit.next", "Next page", "Página siguiente"),
    ("audit.bad_form", "The upload could not be read", "No se pudo leer la subida"),
    ("audit.unknown_field", "The form has an unknown field {0}.", "El formulario tiene un campo desconocido {0}."),
    ("audit.bad_kind", "Choose the kind of file.", "Elija el tipo de archivo."),
    ("audit.no_file", "Choose a file that is not empty.", "Elija un archivo que no esté vacío."),
    ("audit.too_large", "The file is over {0} MiB, the most the hub accepts; nothing was kept.", "El archivo supera {0} MiB, el máximo que acepta el hub; no se guardó nada."),
    ("audit.busy", "Other uploads are being read now; try again in a minute.", "Se están leyendo otras subidas; inténtelo de nuevo en un minuto."),
    ("audit.no_space", "The hub cannot store the upload for reading now; try again later.", "El hub no puede guardar la subida para leerla ahora; inténtelo más tarde."),
    ("audit.unreadable", "{0} is not a file of that kind: {1}", "{0} no es un archivo de ese tipo: {1}"),
    ("ledger.title", "Ledger", "Registro"),
    (
        "ledger.lead",
        "The hub's public ledger as an auditor checks it: the latest signed checkpoint, whether it extends the last one seen, the witnesses that cosigned it, any entry by its index, and the side doors the ledger audit finds.",
        "El registro público del hub tal como lo comprueba un auditor: el último punto de control firmado, si amplía el último visto, los testigos que lo cofirmaron, cualquier entrada por su índice y las puertas traseras que encuentra la auditoría del registro.",
    ),
    ("ledger.checkpoint", "Latest checkpoint", "Último punto de control"),
    ("ledger.none", "No checkpoint has been published yet.", "Todavía no se ha publicado ningún punto de control."),
    ("ledger.origin", "Log", "Registro"),
    ("ledger.size", "Entries covered / in the log", "Entradas cubiertas / en el registro"),
    ("ledger.root", "Root hash", "Hash raíz"),
    ("ledger.seen", "First seen by this console", "Visto por primera vez en esta consola"),
    ("ledger.consistency", "Consistency", "Coherencia"),
    ("ledger.consistency_none", "No earlier checkpoint seen yet to check against.", "Aún no se ha visto un punto de control anterior con el que comparar."),
    ("ledger.consistent", "Consistent: the log of {0} entries is a prefix of the log of {1} (checked {2}).", "Coherente: el registro de {0} entradas es un prefijo del de {1} (comprobado {2})."),
    ("ledger.inconsistent", "NOT consistent: the log of {1} entries does not extend the log of {0} (checked {2}). Keep both checkpoints as evidence.", "NO coherente: el registro de {1} entradas no amplía el de {0} (comprobado {2}). Conserve ambos puntos de control como prueba."),
    ("ledger.cosignatures", "Witness cosignatures", "Cofirmas de testigos"),
    ("ledger.no_cosignatures", "None on this checkpoint.", "Ninguna en este punto de control."),
    ("ledger.entry", "Entry browser", "Explorador de entradas"),
    ("ledger.index", "Ledger index", "Índice del registro"),
    ("ledger.show", "Show entry", "Mostrar entrada"),
    ("ledger.entry_n", "Entry {0}", "Entrada {0}"),
    ("ledger.bad_index", "The index is a whole number, such as 42.", "El índice es un número entero, como 42."),
    ("ledger.no_entry", "There is no entry with that index under the latest checkpoint.", "No hay ninguna entrada con ese índice bajo el último punto de control."),
    ("ledger.side_doors", "Side doors found in the ledger", "Puertas traseras encontradas en el registro"),
    ("ledger.no_findings", "The ledger audit found nothing.", "La auditoría del registro no encontró nada."),
    ("ledger.peers", "Peer hubs' ledgers, as this hub witnesses them", "Registros de los centros pares, tal como este centro los atestigua"),
    (
        "ledger.peers_lead",
        "This hub cosigns a peer's checkpoint only if it extends the one it cosigned before. A checkpoint that does not is a split view: the peer showed two histories. Both signed checkpoints are kept as evidence.",
        "Este centro cofirma el punto de control de un par solo si amplía el que cofirmó antes. Uno que no lo hace es una vista dividida: el par mostró dos historias. Ambos puntos de control firmados se conservan como prueba.",
    ),
    ("ledger.peer", "Peer hub", "Centro par"),
    ("ledger.cosigned_size", "Entries in the checkpoint last cosigned", "Entradas del último punto de control cofirmado"),
    ("ledger.split_views", "Split views", "Vistas divididas"),
    ("ledger.none_cosigned", "none yet", "ninguno todavía"),
    ("ledger.split_view_alert", "{0} signed a checkpoint that contradicts one it signed before ({1}). Both are below.", "{0} firmó un punto de control que contradice otro que firmó antes ({1}). Ambos están abajo."),
    ("ledger.witnessed", "Cosigned before", "Cofirmado antes"),
    ("ledger.presented", "Presented later", "Presentado después"),
    // Generic.
    ("forbidden", "You may not do that: {0}", "No puede hacer eso: {0}"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Words that are the same in both languages (names, codes).
    const SAME: &[&str] = &["nav.language"];

    #[test]
    fn every_message_exists_in_both_languages_and_is_translated() {
        let mut keys = std::collections::HashSet::new();
        for (key, en, es) in MESSAGES {
            assert!(keys.insert(key), "{key} twice");
            assert!(!en.trim().is_empty() && !es.trim().is_empty(), "{key}");
            if !SAME.contains(key) && en.split_whitespace().count() > 1 {
                assert_ne!(en, es, "{key} is not translated");
            }
            // Placeholders match.
            for i in 0..4 {
                let p = format!("{{{i}}}");
                assert_eq!(en.contains(&p), es.contains(&p), "{key}: {p}");
            }
        }
    }

    #[test]
    fn every_key_the_pages_use_is_in_the_catalogue() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut used = Vec::new();
        let mut files: Vec<std::path::PathBuf> = vec![src.join("transparency.rs")];
        for dir in ["web", "portal", "console"] {
            files.extend(std::fs::read_dir(src.join(dir)).unwrap().map(|f| f.unwrap().path()));
        }
        for file in files {
            let text = std::fs::read_to_string(file).unwrap();
            for call in [".t(\"", ".f(\""] {
                for (i, _) in text.match_indices(call) {
                    let rest = &text[i + call.len()..];
                    used.push(rest[..rest.find('"').unwrap()].to_string());
                }
            }
        }
        assert!(used.len() > 50, "{}", used.len());
        for key in used {
            assert!(INDEX.contains_key(key.as_str()), "no message {key:?}");
        }
    }

    #[test]
    fn languages_from_codes() {
        assert_eq!(Lang::from_code("es-MX"), Some(Lang::Es));
        assert_eq!(Lang::from_code("EN_us"), Some(Lang::En));
        assert_eq!(Lang::from_code("fr"), None);
        assert_eq!(Lang::Es.f("home.year", &["2026"]), "Este año, 2026");
    }
}
