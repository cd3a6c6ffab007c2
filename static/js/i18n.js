// static/js/i18n.js — the console's texts in Portuguese (the default) and English. The choice
// is kept in localStorage; {name} placeholders are filled by t(key, {name}). index.html's own
// texts carry data-i18n="key" (text) or data-i18n-aria="key" (aria-label).

const LANG_KEY = 'plantao.lang';

// key: [pt-BR, en]
const S = {
  skip: ['Pular para o conteúdo', 'Skip to content'],
  'lang.other': ['English', 'Português'],
  logout: ['Sair', 'Sign out'],
  loading: ['Carregando…', 'Loading…'],
  zone: ['Horários em {tz}', 'Times in {tz}'],
  'nav.label': ['Seções', 'Sections'],
  'nav.now': ['Agora', 'Now'],
  'nav.schedule': ['Escala', 'Schedule'],
  'nav.people': ['Pessoas', 'People'],
  'nav.escalation': ['Escalonamento', 'Escalation'],
  'nav.alerts': ['Alertas', 'Alerts'],
  'nav.sales': ['Vendas', 'Sales'],
  'readonly.note': ['Este token só pode ler: os controles de edição estão ocultos.',
    'This token can only read: editing controls are hidden.'],
  'role.admin': ['administrador', 'admin'],
  'role.editor': ['editor', 'editor'],
  'role.viewer': ['somente leitura', 'read only'],

  'login.title': ['Entrar', 'Sign in'],
  'login.lead': ['Cole o token da API uma vez. Ele fica guardado neste navegador e só é enviado ao servidor do plantao.',
    'Paste the API token once. It is kept in this browser and only sent to the plantao server.'],
  'login.token': ['Token da API', 'API token'],
  'login.hint': ['O token inicial é PLANTAO_API_TOKEN; outros são criados em /api/tokens.',
    'The first token is PLANTAO_API_TOKEN; more are created at /api/tokens.'],
  'login.submit': ['Entrar', 'Sign in'],
  'login.empty': ['Cole o token.', 'Paste the token.'],
  'login.bad': ['O servidor recusou este token.', 'The server refused this token.'],
  'login.expired': ['O token não vale mais: cole um token válido.', 'The token is no longer valid: paste a valid token.'],

  'err.network': ['Sem resposta do servidor. Tente de novo.', 'No answer from the server. Try again.'],
  'err.forbidden': ['Este token não pode fazer isso: a página ficou somente leitura.',
    'This token may not do that: the page is now read only.'],
  'err.forbidden.read': ['Este token não pode ler isto.', 'This token may not read this.'],
  'err.notyet': ['Este servidor ainda não tem esta função.', 'This server does not offer this yet.'],

  yes: ['sim', 'yes'],
  no: ['não', 'no'],
  save: ['Salvar', 'Save'],
  saved: ['Salvo.', 'Saved.'],
  cancel: ['Cancelar', 'Cancel'],
  edit: ['Editar', 'Edit'],
  remove: ['Remover', 'Remove'],
  'remove.confirm': ['Confirmar remoção', 'Confirm removal'],
  removed: ['Removido: {name}', 'Removed: {name}'],
  actions: ['Ações', 'Actions'],
  copy: ['Copiar', 'Copy'],
  copied: ['Copiado.', 'Copied.'],
  nobody: ['ninguém', 'nobody'],
  person: ['Pessoa', 'Person'],
  start: ['Início', 'Start'],
  end: ['Fim', 'End'],
  kind: ['Tipo', 'Kind'],
  override: ['substituição', 'override'],
  rotation: ['rodízio', 'rotation'],

  'now.oncall': ['De plantão agora', 'On call now'],
  'now.until': ['até {when}', 'until {when}'],
  'now.open': ['sem fim previsto', 'no end in sight'],
  'now.nobody': ['Ninguém está de plantão.', 'Nobody is on call.'],
  'now.nobody.hint': ['Monte o rodízio na página', 'Set up the rotation on the page'],
  'now.next': ['Próximo', 'Next'],
  'now.from': ['a partir de {when}', 'from {when}'],
  'now.nonext': ['ninguém depois', 'nobody after'],
  'take.title': ['Assumir o plantão', 'Take the shift'],
  'take.hint': ['Cria uma substituição de agora até o fim do turno atual ({when}).',
    'Creates an override from now to the end of the current shift ({when}).'],
  'take.hint.noend': ['Ninguém está de plantão: a substituição começa agora e dura as horas escolhidas.',
    'Nobody is on call: the override starts now and lasts the hours chosen.'],
  'take.who': ['Quem assume', 'Who takes it'],
  'take.hours': ['Horas', 'Hours'],
  'take.button': ['Assumir o plantão', 'Take the shift'],
  'take.reason': ['assumiu pelo console', 'taken in the console'],
  'take.done': ['Plantão assumido.', 'Shift taken.'],
  'take.replace': ['Substituir a que já existe', 'Replace the existing one'],
  'take.nopeople': ['Cadastre pessoas primeiro:', 'Add people first:'],

  'sched.next4': ['Próximas 4 semanas', 'Next 4 weeks'],
  'sched.legend': ['Legenda', 'Legend'],
  'sched.empty': ['Nenhum turno nestas semanas: monte o rodízio abaixo.', 'No shifts in these weeks: set up the rotation below.'],
  'sched.aslist': ['Ver os turnos em lista', 'See the shifts as a list'],
  'rot.title': ['Rodízio', 'Rotation'],
  'rot.hint': ['Cada pessoa fica um turno, na ordem abaixo. Mudanças valem a partir de agora; o passado não muda.',
    'Each person takes one shift, in the order below. Changes apply from now on; the past does not change.'],
  'rot.members': ['Ordem do rodízio', 'Rotation order'],
  'rot.nomembers': ['Ninguém no rodízio.', 'Nobody in the rotation.'],
  'rot.addwho': ['Adicionar ao rodízio', 'Add to the rotation'],
  'rot.add': ['Adicionar', 'Add'],
  'rot.up': ['Subir {name}', 'Move {name} up'],
  'rot.down': ['Descer {name}', 'Move {name} down'],
  'rot.remove': ['Tirar {name} do rodízio', 'Take {name} out of the rotation'],
  'rot.hours': ['Duração do turno (horas)', 'Shift length (hours)'],
  'rot.hours.hint': ['168 = uma semana, 24 = um dia', '168 = a week, 24 = a day'],
  'rot.handoff': ['Troca de turno (início do primeiro)', 'Hand-off (start of the first shift)'],
  'rot.handoff.hint': ['Hora local do fuso abaixo', 'Local time in the zone below'],
  'rot.tz': ['Fuso horário', 'Time zone'],
  'rot.save': ['Salvar rodízio', 'Save rotation'],
  'rot.saved': ['Rodízio salvo.', 'Rotation saved.'],
  'ovr.title': ['Substituições', 'Overrides'],
  'ovr.none': ['Nenhuma substituição agora ou adiante.', 'No current or future overrides.'],
  'ovr.add': ['Nova substituição', 'New override'],
  'ovr.addbtn': ['Adicionar substituição', 'Add override'],
  'ovr.reason': ['Motivo', 'Reason'],
  'ovr.added': ['Substituição adicionada.', 'Override added.'],
  'ovr.remove.label': ['Remover a substituição de {name}', 'Remove the override of {name}'],
  'ovr.bad.start': ['Informe o início.', 'Give the start.'],
  'ovr.bad.end': ['Informe o fim.', 'Give the end.'],
  'ics.title': ['Agenda (iCalendar)', 'Calendar feed (iCalendar)'],
  'ics.hint': ['Assine este endereço no seu aplicativo de agenda para ver os turnos. Aplicativos de agenda não enviam cabeçalhos: o endereço leva um token de leitura (papel viewer), que pode ser revogado sozinho.',
    'Subscribe to this address in your calendar app to see the shifts. Calendar apps cannot send headers: the address carries a read-only token (role viewer) that can be revoked on its own.'],
  'ics.url': ['Endereço da agenda', 'Feed address'],
  'ics.placeholder': ['TOKEN_DE_LEITURA', 'VIEWER_TOKEN'],
  'ics.create': ['Criar um token de leitura para a agenda', 'Create a read-only token for the calendar'],
  'ics.created': ['Token criado: copie o endereço agora, ele não será mostrado de novo.',
    'Token created: copy the address now, it will not be shown again.'],
  'ics.tokenname': ['agenda', 'calendar'],

  'people.name': ['Nome', 'Name'],
  'people.phone': ['Telefone', 'Phone'],
  'people.phone.hint': ['Formato internacional E.164, por exemplo +5511999990000',
    'International E.164 format, for example +5511999990000'],
  'people.email': ['E-mail', 'E-mail'],
  'people.whatsapp': ['Recebe alertas por WhatsApp', 'Gets alerts on WhatsApp'],
  'people.add': ['Adicionar pessoa', 'Add person'],
  'people.new': ['Nova pessoa', 'New person'],
  'people.editing': ['Editar {name}', 'Edit {name}'],
  'people.added': ['{name} adicionada.', '{name} added.'],
  'people.empty': ['Ninguém cadastrado ainda.', 'Nobody here yet.'],
  'people.edit.label': ['Editar {name}', 'Edit {name}'],
  'people.remove.label': ['Remover {name}', 'Remove {name}'],
  'people.archived': ['{name} foi arquivada (aparece no histórico).', '{name} was archived (appears in the history).'],
  'people.optout': ['SMS desligado (STOP)', 'SMS off (STOP)'],

  'esc.steps': ['Passos', 'Steps'],
  'esc.hint': ['Um alerta manda SMS e liga para cada passo, em ordem, até alguém confirmar (tecla 1).',
    'An alert texts and calls each step in order until someone acknowledges (key 1).'],
  'esc.target': ['Passo {n}: ligar para', 'Step {n}: call'],
  'esc.oncall': ['quem está de plantão', 'whoever is on call'],
  'esc.next': ['o próximo do rodízio', 'the next in the rotation'],
  'esc.timeout': ['Esperar (segundos)', 'Wait (seconds)'],
  'esc.up': ['Subir o passo {n}', 'Move step {n} up'],
  'esc.down': ['Descer o passo {n}', 'Move step {n} down'],
  'esc.remove': ['Remover o passo {n}', 'Remove step {n}'],
  'esc.add': ['Adicionar passo', 'Add step'],
  'esc.rounds': ['Rodadas', 'Rounds'],
  'esc.rounds.hint': ['Quantas vezes repetir todos os passos antes de desistir (1 a 20).',
    'How many times to repeat every step before giving up (1 to 20).'],

  'al.auto': ['Atualiza sozinho a cada 5 segundos.', 'Refreshes by itself every 5 seconds.'],
  'al.refreshed': ['Atualizado às {when}', 'Refreshed at {when}'],
  'al.none': ['Nenhum alerta.', 'No alerts.'],
  'al.summary': ['Resumo', 'Summary'],
  'al.status': ['Situação', 'Status'],
  'al.severity': ['Gravidade', 'Severity'],
  'al.source': ['Origem', 'Source'],
  'al.created': ['Criado', 'Created'],
  'al.hits': ['Repetições', 'Hits'],
  'al.ack': ['Confirmar', 'Acknowledge'],
  'al.ack.label': ['Confirmar o alerta {id}', 'Acknowledge alert {id}'],
  'al.resolve': ['Resolver', 'Resolve'],
  'al.resolve.label': ['Resolver o alerta {id}', 'Resolve alert {id}'],
  'al.acked': ['Alerta {id} confirmado.', 'Alert {id} acknowledged.'],
  'al.resolved': ['Alerta {id} resolvido.', 'Alert {id} resolved.'],
  'al.back': ['Todos os alertas', 'All alerts'],
  'al.title': ['Alerta {id}: {summary}', 'Alert {id}: {summary}'],
  'al.ackedby': ['Confirmado por', 'Acknowledged by'],
  'al.timeline': ['Linha do tempo', 'Timeline'],
  'al.notimeline': ['Nada enviado ainda.', 'Nothing sent yet.'],
  'al.when': ['Quando', 'When'],
  'al.what': ['O quê', 'What'],
  'al.to': ['Para', 'To'],
  'al.twilio': ['Situação no Twilio', 'Twilio status'],
  'al.detail': ['Detalhes', 'Details'],
  'al.digits': ['tecla', 'key'],
  'al.error': ['erro', 'error'],
  'al.resolvedat': ['Resolvido', 'Resolved'],
  'al.via.api': ['pela API ou console', 'through the API or console'],
  'al.via.call': ['na ligação (tecla 1)', 'on the call (key 1)'],
  'al.via.sms': ['por SMS', 'by SMS'],
  'al.via.alertmanager': ['pelo Alertmanager', 'by Alertmanager'],
  'al.via.grafana': ['pelo Grafana', 'by Grafana'],
  'al.class.ack': ['aviso de confirmação', 'acknowledgment notice'],
  'al.class.reply': ['resposta', 'reply'],
  'al.tries': ['{n} tentativas', '{n} tries'],
  'al.roundstep': ['rodada {round}, passo {step}', 'round {round}, step {step}'],
  'al.k.call': ['Ligação', 'Call'],
  'al.k.event': ['Evento', 'Event'],
  'al.k.triggered': ['Disparado', 'Triggered'],
  'al.k.acknowledged': ['Confirmado', 'Acknowledged'],
  'al.k.resolved': ['Resolvido', 'Resolved'],
  'al.k.exhausted': ['Esgotado', 'Exhausted'],
  'st.triggered': ['disparado', 'triggered'],
  'st.acknowledged': ['confirmado', 'acknowledged'],
  'st.resolved': ['resolvido', 'resolved'],
  'st.exhausted': ['esgotado', 'exhausted'],

  'sales.period': ['Mês', 'Month'],
  'sales.upload': ['Enviar planilhas', 'Upload spreadsheets'],
  'sales.files': ['Arquivos (.xlsx, CSV ou JSON)', 'Files (.xlsx, CSV or JSON)'],
  'sales.files.hint': ['Pode escolher vários de uma vez.', 'You may pick several at once.'],
  'sales.byname': ['Mês pelo nome de cada arquivo (janeiro.xlsx, 2026-01.xlsx) em vez do mês acima',
    "Month from each file's name (janeiro.xlsx, 2026-01.xlsx) instead of the month above"],
  'sales.send': ['Enviar', 'Upload'],
  'sales.nofile': ['Escolha ao menos um arquivo.', 'Pick at least one file.'],
  'sales.sending': ['enviando…', 'uploading…'],
  'sales.imported': ['{n} vendedores importados; {above} acima da meta; {queued} avisos na fila.',
    '{n} sellers imported; {above} above the goal; {queued} notices queued.'],
  'sales.filerows': ['{rows} linhas ({format})', '{rows} rows ({format})'],
  'sales.nophones': ['Nenhum gerente avisado: cadastre os telefones abaixo.', 'No manager told: add their phones below.'],
  'sales.done': ['Envio terminado.', 'Upload finished.'],
  'sales.report': ['Totais por vendedor', 'Totals per seller'],
  'sales.empty': ['Nenhuma venda em {period}.', 'No sales in {period}.'],
  'sales.summary': ['Meta {goal}: {n} de {total} vendedores acima.', 'Goal {goal}: {n} of {total} sellers above.'],
  'sales.chart': ['Vendas por vendedor em {period}, com a meta', 'Sales per seller in {period}, with the goal'],
  'sales.goal': ['meta {goal}', 'goal {goal}'],
  'sales.legend': ['Barras verdes: acima da meta. Linha tracejada: a meta.',
    'Green bars: above the goal. Dashed line: the goal.'],
  'sales.table': ['Ver os números', 'See the numbers'],
  'sales.seller': ['Vendedor', 'Seller'],
  'sales.total': ['Total', 'Total'],
  'sales.vsgoal': ['Meta', 'Goal'],
  'sales.above': ['acima', 'above'],
  'sales.below': ['abaixo', 'below'],
  'sales.notified': ['Gerentes avisados', 'Managers told'],
  'sales.rule': ['A meta é batida com', 'The goal is met with'],
  'sales.rule.more_than': ['mais que a meta', 'more than the goal'],
  'sales.rule.at_least': ['pelo menos a meta', 'at least the goal'],
  'sales.settings': ['Meta e avisos', 'Goal and notices'],
  'sales.target': ['Meta mensal', 'Monthly goal'],
  'sales.currency': ['Moeda', 'Currency'],
  'sales.notify': ['Telefones dos gerentes', "Managers' phones"],
  'sales.notify.hint': ['Um por linha, em E.164. Recebem um SMS quando alguém passa da meta.',
    'One per line, E.164. They get an SMS when someone beats the goal.'],
};

let current = localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'pt-BR';

export function lang() {
  return current;
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'pt-BR';
  localStorage.setItem(LANG_KEY, current);
}

function fill(s, vars) {
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m)) : s;
}

/* The text of key in the current language; the key itself when there is none. */
export function t(key, vars) {
  const e = S[key];
  return e ? fill(e[current === 'en' ? 1 : 0], vars) : key;
}

/* t(key) when the key exists, otherwise fallback. */
export function tOr(key, fallback, vars) {
  return S[key] ? t(key, vars) : fallback;
}

/* Translates index.html's marked elements and sets <html lang>. */
export function applyStatic() {
  document.documentElement.lang = current;
  document.querySelectorAll('[data-i18n]').forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  document.querySelectorAll('[data-i18n-aria]').forEach((el) => {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  });
  const other = document.getElementById('lang');
  if (other) other.lang = current === 'en' ? 'pt-BR' : 'en';
}
