-- The controlled-drug catalogue (SPEC §4, §7.1 GET /api/v1/drugs): drugs in common UK use
-- across every schedule of the Misuse of Drugs Regulations 2001 (as amended to 2026) with their
-- Misuse of Drugs Act 1971 class, and for opioids the oral morphine equivalent (OME) factor.
--
-- Schedule codes: '1', '2', '3', '4-1' (Part 1, CD Benz), '4-2' (Part 2, CD Anab), '5'.
-- class: the Act's class of the drug; a Schedule 5 preparation keeps its parent drug's class
--   (Schedule 5 relaxes the Regulations' requirements; it does not declassify the drug).
-- ome_factor: mg of oral morphine per mg of the dose as usually given (BNF / Opioids Aware
--   table; DOMAIN.md §5). For combination products it is per mg of the opioid component.
--   NULL where no reliable table gives one; `notes` then says why.
-- patch: transdermal products whose OME comes from the micrograms/hour table in
--   src/domain/ome.rs, not from a per-mg factor.
-- A drug that is a Schedule 2 substance but also has Schedule 5 preparations (morphine, codeine,
-- dihydrocodeine) has one entry per schedule, named so a reporter can tell them apart.
--
-- Ids are fixed literals: cases refer to them, so they must never change. Correct a row with a
-- later migration (UPDATE by id); never edit this file once it has landed.

CREATE TABLE drugs (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    synonyms    text[] NOT NULL DEFAULT '{}',
    schedule    text NOT NULL CHECK (schedule IN ('1', '2', '3', '4-1', '4-2', '5')),
    class       text CHECK (class IN ('A', 'B', 'C')),
    is_opioid   boolean NOT NULL DEFAULT false,
    ome_factor  numeric,
    patch       text CHECK (patch IN ('fentanyl', 'buprenorphine_7day', 'buprenorphine_4day')),
    notes       text,
    CHECK (ome_factor IS NULL OR ome_factor > 0),
    CHECK (patch IS NULL OR (is_opioid AND ome_factor IS NULL))
);
CREATE INDEX drugs_name_trgm_free ON drugs (lower(name));

INSERT INTO drugs (id, name, synonyms, schedule, class, is_opioid, ome_factor, patch, notes) VALUES
    -- Schedule 1 (CD Lic): no recognised medicinal use; Home Office licence only
    ('441da719-91a6-4986-bd28-5caae8b7382a', 'Lysergide (LSD)', ARRAY['LSD', 'acid', 'lysergic acid diethylamide'], '1', 'A', false, NULL, NULL, 'Schedule 1: no recognised medicinal use in the UK; possession and supply only under a Home Office licence.'),
    ('4eadf373-8a16-42c0-b8f8-8fa77cae89ef', 'Psilocybin and psilocin (magic mushrooms)', ARRAY['psilocybin', 'psilocin', 'magic mushrooms', 'shrooms', 'liberty caps'], '1', 'A', false, NULL, NULL, 'Schedule 1; fresh or dried fungi containing psilocin are Class A (Drugs Act 2005). Clinical trials only under Home Office licence.'),
    ('bb4d8a2e-58ce-4d9c-b710-87394f48f6c9', 'MDMA (methylenedioxymethamfetamine)', ARRAY['MDMA', 'ecstasy', 'molly', 'mandy', 'pills'], '1', 'A', false, NULL, NULL, 'Schedule 1: no recognised medicinal use in the UK.'),
    ('7162bdff-cf1d-4f08-99d4-be8526ae496d', 'Raw opium', ARRAY['opium'], '1', 'A', true, NULL, NULL, 'Schedule 1 (raw opium); medicinal opium and opium tincture are Schedule 2. No OME: not a dosed medicine.'),
    ('003d4c57-5867-4114-acc0-99e719703dbc', 'Cannabis (non-CBPM)', ARRAY['cannabis', 'marijuana', 'weed', 'skunk', 'herbal cannabis', 'ganja', 'grass'], '1', 'B', false, NULL, NULL, 'Schedule 1 unless it meets the definition of a cannabis-based product for medicinal use (Schedule 2 since 1 Nov 2018, SI 2018/1055).'),
    ('7ce37f0d-8f2b-4e07-ab70-f7f8265ad6eb', 'Cannabis resin', ARRAY['hash', 'hashish', 'resin'], '1', 'B', false, NULL, NULL, 'Schedule 1 unless it meets the CBPM definition (Schedule 2 since 1 Nov 2018).'),
    ('ca5c5f68-ca75-4c7a-ab76-6d4a58cff506', 'Mescaline', ARRAY['peyote', 'San Pedro cactus'], '1', 'A', false, NULL, NULL, 'Schedule 1: no recognised medicinal use in the UK.'),
    ('a13c98a3-e2e8-4d47-a82f-06590958baf4', 'Dimethyltryptamine (DMT)', ARRAY['DMT', 'N,N-dimethyltryptamine', 'ayahuasca'], '1', 'A', false, NULL, NULL, 'Schedule 1: no recognised medicinal use in the UK.'),
    ('03bfca2d-4967-472b-a95c-7ded84d09c8b', 'Coca leaf', ARRAY['coca'], '1', 'A', false, NULL, NULL, 'Schedule 1 (the leaf); cocaine itself is Schedule 2.'),
    ('4f8c31d3-b6f2-4757-8fdf-7a27e6755493', 'Mephedrone', ARRAY['4-MMC', '4-methylmethcathinone', 'meow meow', 'M-CAT', 'drone'], '1', 'B', false, NULL, NULL, 'Class B and Schedule 1 since April 2010 (synthetic cathinone).'),
    ('380c6fcc-e11a-46ac-b727-149c449bab7e', 'Synthetic cannabinoid receptor agonists (spice)', ARRAY['spice', 'black mamba', 'SCRA', 'synthetic cannabinoids', 'MDMB-4en-PINACA', 'K2'], '1', 'B', false, NULL, NULL, 'Class B, Schedule 1 under generic definitions (extended in 2016); common in prisons.'),
    ('58da8a46-73c5-413a-a53f-b5029b40ab99', '2C-B', ARRAY['nexus', 'bromo', '4-bromo-2,5-dimethoxyphenethylamine'], '1', 'A', false, NULL, NULL, 'Schedule 1: no recognised medicinal use in the UK.'),
    ('f8c35c5d-046c-48a8-8036-111152dbf228', 'Nitazenes (e.g. isotonitazene, metonitazene, protonitazene)', ARRAY['nitazene', 'nitazenes', 'isotonitazene', 'metonitazene', 'protonitazene', 'etonitazepyne', 'N-pyrrolidino etonitazene'], '1', 'A', true, NULL, NULL, 'Synthetic opioids far more potent than heroin; no medicinal use, so no OME. Class A/Schedule 1 (15 named from 20 Mar 2024, SI 2024/190 and 2024/248; generic definition from 15 Jan 2025, SI 2024/1361 and 2024/1369).'),
    ('c34f0785-016b-4ef0-be7f-b261dae78cb5', 'Khat', ARRAY['qat', 'chat', 'miraa'], '1', 'C', false, NULL, NULL, 'Class C and Schedule 1 since June 2014.'),
    ('c2723c10-1051-4104-833a-2a62267d2526', 'Etizolam', ARRAY['street valium', 'fake diazepam'], '1', 'C', false, NULL, NULL, 'Designer benzodiazepine: Class C (SI 2017/634) and Schedule 1 (SI 2017/631) since 31 May 2017; often sold as counterfeit diazepam.'),
    -- Schedule 2 (CD POM): CD register, safe custody (except secobarbital), CD prescriptions
    ('5e7c2227-9635-44bc-9ab4-c1448ce24cb2', 'Diamorphine hydrochloride', ARRAY['diamorphine', 'heroin', 'smack', 'brown', 'gear'], '2', 'A', true, 3, NULL, 'OME 3 per mg given SC/IM (SC diamorphine = oral morphine / 3); no UK oral product; illicit heroin has no OME.'),
    ('907bda00-ead4-414c-9c1f-2736ef1166e2', 'Morphine sulfate', ARRAY['morphine', 'MST Continus', 'MST', 'Zomorph', 'Sevredol', 'MXL', 'Morphgesic', 'Oramorph concentrated', 'morphine 20 mg/mL'], '2', 'A', true, 1, NULL, 'Oral OME 1. Schedule 2 above 0.2% morphine (tablets, capsules, concentrated 20 mg/mL solution); the 10 mg/5 mL solution is Schedule 5 (separate entry).'),
    ('d9e48b98-b5c3-499f-9764-14cf3930d6fb', 'Morphine sulfate injection', ARRAY['morphine injection', 'morphine SC', 'morphine IV'], '2', 'A', true, 2, NULL, 'OME 2 per mg given SC/IV (parenteral morphine = oral / 2).'),
    ('ecf4747c-80c9-45ad-b19c-be4ebd89644c', 'Oxycodone hydrochloride', ARRAY['oxycodone', 'OxyContin', 'OxyNorm', 'Longtec', 'Shortec', 'Lynlor', 'Reltebon', 'Oxypro', 'Abtard'], '2', 'A', true, 1.5, NULL, 'OME 1.5 per mg oral (some palliative tables use 2); for SC injection no single factor, so use with care.'),
    ('c765d9e3-f538-4107-950e-14ae4a31416b', 'Oxycodone with naloxone', ARRAY['Targinact', 'oxycodone naloxone'], '2', 'A', true, 1.5, NULL, 'OME 1.5 per mg of the oxycodone component (e.g. 10/5 tablet = 10 mg oxycodone).'),
    ('ffff8380-abec-4b17-8912-72af51b7ad80', 'Fentanyl (injection, buccal, sublingual, nasal)', ARRAY['fentanyl', 'Abstral', 'Effentora', 'Instanyl', 'PecFent', 'Actiq', 'Sublimaze'], '2', 'A', true, NULL, NULL, 'No OME factor: transmucosal and injectable fentanyl are titrated separately and have no reliable oral morphine ratio; patches are a separate entry.'),
    ('07e6bd98-3cd7-4439-af95-ec00f284d59a', 'Fentanyl transdermal patch', ARRAY['fentanyl patch', 'Durogesic', 'Matrifen', 'Fencino', 'Mezolar', 'Opiodur', 'Victanyl', 'Yemex'], '2', 'A', true, NULL, 'fentanyl', 'OME from the micrograms/hour table (12/25/50/75/100 = 30/60/120/180/240 mg/day), not a per-mg factor.'),
    ('d5d3edcf-8222-4db0-a969-9e0e63f5252a', 'Alfentanil', ARRAY['Rapifen', 'alfentanil injection'], '2', 'A', true, NULL, NULL, 'Injection only (anaesthesia, palliative syringe drivers); no OME factor in the BNF/Opioids Aware table.'),
    ('6218eaaf-7ab3-4be9-a3f7-d651b95813c2', 'Remifentanil', ARRAY['Ultiva'], '2', 'A', true, NULL, NULL, 'Intravenous anaesthesia only; no OME factor.'),
    ('621e4d85-9b4d-4b20-b4b1-444f0bbe627c', 'Hydromorphone hydrochloride', ARRAY['hydromorphone', 'Palladone', 'Palladone SR'], '2', 'A', true, 5, NULL, 'OME 5 per mg oral (some tables use 7.5).'),
    ('8564ec42-9807-451f-be57-c88b9c99a02d', 'Methadone hydrochloride', ARRAY['methadone', 'Physeptone', 'Methadose', 'Metharose', 'methadone mixture 1 mg/mL', 'Comfortan'], '2', 'A', true, NULL, NULL, 'No fixed OME ratio: conversion to and from methadone is non-linear and specialist-led.'),
    ('90b2acb7-9288-4cd1-9210-c20836119314', 'Pethidine hydrochloride', ARRAY['pethidine', 'meperidine'], '2', 'A', true, 0.1, NULL, 'OME 0.1 per mg oral (approximate; some tables 0.125); mostly given by injection, for which this factor does not apply.'),
    ('1909d5bc-973e-4f96-91a4-adcb84c45946', 'Tapentadol', ARRAY['Palexia', 'Palexia SR'], '2', 'A', true, 0.4, NULL, 'OME 0.4 per mg oral. Class A and Schedule 2 since 2011 (SI 2011/448).'),
    ('12144fa6-c08f-4485-a96b-08deb707a75a', 'Dipipanone', ARRAY['Diconal', 'dipipanone with cyclizine'], '2', 'A', true, NULL, NULL, 'Dipipanone with cyclizine; rarely prescribed; no OME factor in the BNF/Opioids Aware table.'),
    ('3f17ae35-bda4-4436-866e-7be99fbf2fb6', 'Opium tincture (medicinal opium)', ARRAY['opium tincture', 'laudanum', 'medicinal opium', 'Dropizol'], '2', 'A', true, NULL, NULL, 'Medicinal opium (10 mg/mL morphine) for severe diarrhoea; dosed in drops, so no per-mg OME factor.'),
    ('a9bec6dd-f9f1-4f85-b72a-a3274bb3743a', 'Papaveretum', ARRAY['Omnopon'], '2', 'A', true, NULL, NULL, 'Injection of mixed opium alkaloids; rarely used; no OME factor in the table.'),
    ('7a95612f-6354-408f-ad71-6ce19b8d6386', 'Codeine phosphate (injection / high strength)', ARRAY['codeine injection', 'codeine powder'], '2', 'B', true, NULL, NULL, 'Codeine as a substance, the injection and preparations above the Schedule 5 limits are Schedule 2; no OME for injection (oral codeine: see ''Codeine phosphate'', 0.1).'),
    ('b086c6cd-3345-41b7-84d2-de8ce5e30f70', 'Dihydrocodeine tartrate (injection / high strength)', ARRAY['dihydrocodeine injection', 'dihydrocodeine powder'], '2', 'B', true, NULL, NULL, 'Substance, the 50 mg/mL injection and preparations above the Schedule 5 limits are Schedule 2; no OME for injection (oral: see ''Dihydrocodeine tartrate'', 0.1).'),
    ('11aa9262-6e02-474e-95f3-45fd274f9337', 'Ketamine', ARRAY['Ketalar', 'special K', 'ket', 'Vetalar', 'Narketan', 'Ketaset'], '2', 'B', false, NULL, NULL, 'Class B since 10 June 2014; moved from Schedule 4 Part 1 to Schedule 2 in November 2015.'),
    ('2592fc7c-cfe8-40de-ac62-771814783586', 'Esketamine', ARRAY['Spravato'], '2', 'B', false, NULL, NULL, 'Isomer of ketamine, so controlled as ketamine (Class B, Schedule 2); nasal spray for depression.'),
    ('5b90eeff-7b42-449f-ae15-734240859280', 'Cocaine hydrochloride', ARRAY['cocaine', 'coke', 'crack', 'crack cocaine', 'charlie'], '2', 'A', false, NULL, NULL, 'Schedule 2 (topical anaesthesia); preparations with no more than 0.1% cocaine are Schedule 5.'),
    ('0cadd9cf-a36c-4003-bff8-7e3942fcaf0c', 'Dexamfetamine sulfate', ARRAY['dexamfetamine', 'dexamphetamine', 'Amfexa', 'Dexedrine'], '2', 'B', false, NULL, NULL, 'Schedule 2 (ADHD, narcolepsy); Class A if prepared for injection.'),
    ('555d492f-da2a-4005-848e-e555c070c6a1', 'Lisdexamfetamine dimesylate', ARRAY['lisdexamfetamine', 'Elvanse', 'Vyvanse'], '2', 'B', false, NULL, NULL, 'Class B and Schedule 2 since 10 June 2014 (prodrug of dexamfetamine).'),
    ('691ac246-b226-4917-a378-bf397fff661a', 'Methylphenidate hydrochloride', ARRAY['methylphenidate', 'Ritalin', 'Concerta XL', 'Equasym XL', 'Medikinet', 'Xaggitin XL', 'Delmosart', 'Xenidate'], '2', 'B', false, NULL, NULL, 'Schedule 2 (ADHD); Class A if prepared for injection.'),
    ('afcd19c3-c2b6-4f1e-bb1b-b8d4cec47e80', 'Amfetamine', ARRAY['amphetamine', 'amphetamine sulfate', 'speed', 'whizz'], '2', 'B', false, NULL, NULL, 'Schedule 2; mainly illicit in the UK. Class A if prepared for injection.'),
    ('00d27bde-e850-4dcd-86f7-8903a304b513', 'Metamfetamine', ARRAY['methamphetamine', 'crystal meth', 'crystal', 'ice', 'tina'], '2', 'A', false, NULL, NULL, 'Class A since January 2007; Schedule 2.'),
    ('048a75ba-ea3b-40df-8ed0-a9666a302ddc', 'Nabilone', ARRAY['Cesamet'], '2', 'B', false, NULL, NULL, 'Synthetic cannabinoid medicine (chemotherapy nausea); Schedule 2.'),
    ('9c0b3471-8275-4f15-a9a2-b203efd3e5e7', 'Secobarbital', ARRAY['quinalbarbitone', 'Seconal'], '2', 'B', false, NULL, NULL, 'The only Schedule 2 barbiturate; exempt from safe custody.'),
    ('55b935fb-c7dc-4d6f-995e-5b1a25f706e7', 'Cannabis-based product for medicinal use (CBPM)', ARRAY['CBPM', 'medical cannabis', 'medicinal cannabis', 'cannabis flos', 'cannabis oil (prescribed)'], '2', 'B', false, NULL, NULL, 'Schedule 2 since 1 Nov 2018 (SI 2018/1055); prescribing limited to doctors on the GMC Specialist Register. Sativex is Schedule 4 Part 1; Epidyolex (cannabidiol) is not controlled.'),
    ('33c8acfc-b51a-4804-b006-6ca74a6706c8', 'Sodium oxybate (GHB)', ARRAY['GHB', 'Xyrem', 'gamma-hydroxybutyrate', '4-hydroxybutanoic acid', 'liquid ecstasy'], '2', 'B', false, NULL, NULL, 'Schedule 2; Class B since 13 April 2022 (SI 2022/322), previously Class C. GBL and 1,4-butanediol are separate substances (not listed here).'),
    ('b6e8709b-4332-4d8f-b5a4-e534af726fe0', 'Etorphine hydrochloride', ARRAY['Immobilon', 'M99'], '2', 'A', true, NULL, NULL, 'Veterinary only (large-animal immobilisation); extremely potent; no human OME factor.'),
    -- Schedule 3 (CD No Reg): CD prescriptions; safe custody only where noted
    ('2366438c-4035-4917-9a18-c299ad14293a', 'Buprenorphine (sublingual)', ARRAY['buprenorphine', 'Subutex', 'Espranor', 'Temgesic'], '3', 'C', true, 40, NULL, 'OME 40 per mg sublingual (another table uses 60); not meaningful at opioid-dependence doses. Schedule 3 with safe custody.'),
    ('f82e3af5-cf33-4ff9-ad90-bb4bd9b3b263', 'Buprenorphine 7-day transdermal patch', ARRAY['BuTrans', 'Butec', 'Reletrans', 'Sevodyne', 'buprenorphine patch weekly'], '3', 'C', true, NULL, 'buprenorphine_7day', 'OME from the micrograms/hour table (5/10/20 = 12/24/48 mg/day), not a per-mg factor.'),
    ('d4debe05-6890-4953-9e84-b6a765779f92', 'Buprenorphine 4-day transdermal patch', ARRAY['Transtec', 'buprenorphine patch twice weekly'], '3', 'C', true, NULL, 'buprenorphine_4day', 'Twice-weekly (96-hour) patch: OME from the micrograms/hour table (35/52.5/70 = 84/126/168 mg/day).'),
    ('47ceb954-5f03-45f9-ba79-ec4cd067f509', 'Buprenorphine with naloxone', ARRAY['Suboxone', 'buprenorphine naloxone'], '3', 'C', true, NULL, NULL, 'Opioid-dependence treatment; no OME factor applies at these doses.'),
    ('6a383833-4d08-486d-b125-9e61b5b52f5b', 'Buprenorphine injection', ARRAY['Buvidal', 'Sublocade', 'Vetergesic', 'buprenorphine depot', 'buprenorphine prolonged-release injection'], '3', 'C', true, NULL, NULL, 'Prolonged-release depots for opioid dependence and veterinary injection; no OME factor.'),
    ('88c3caf1-8819-4893-8590-a165d3e88b13', 'Temazepam', ARRAY['temazepam tablets', 'temazepam oral solution', 'jellies'], '3', 'C', false, NULL, NULL, 'Schedule 3 benzodiazepine subject to safe custody and full CD prescription requirements (the latter since June 2015).'),
    ('58dfa44b-2f25-4e08-8cf0-ce994fb1662f', 'Midazolam', ARRAY['Buccolam', 'Epistatus', 'Hypnovel', 'midazolam oromucosal'], '3', 'C', false, NULL, NULL, 'Schedule 3 since 1 January 2008; exempt from safe custody.'),
    ('fc624037-a258-49b2-a205-24b68e1a3c8c', 'Tramadol hydrochloride', ARRAY['tramadol', 'Zydol', 'Zamadol', 'Marol', 'Maxitram', 'Tramulief'], '3', 'C', true, 0.1, NULL, 'OME 0.1 per mg oral (some tables 0.15-0.2). Class C and Schedule 3 since 10 June 2014; exempt from safe custody.'),
    ('fd6564c3-d432-405d-bef3-2c568484166f', 'Tramadol with paracetamol', ARRAY['Tramacet', 'tramadol paracetamol'], '3', 'C', true, 0.1, NULL, 'OME 0.1 per mg of the tramadol component (37.5 mg per tablet), not per mg of tablet.'),
    ('63cb8fd2-defc-432e-9d17-3b0435d48b6d', 'Pentazocine', ARRAY['Fortral'], '3', 'B', true, NULL, NULL, 'Class B (unlike most Schedule 3 drugs); rarely used; no OME factor in the BNF/Opioids Aware table.'),
    ('dee40db9-7fd4-45f4-ba69-82f75f2052a2', 'Phenobarbital', ARRAY['phenobarbitone', 'Epiphen', 'Phenoleptil'], '3', 'B', false, NULL, NULL, 'Schedule 3 barbiturate (Class B); exempt from safe custody.'),
    ('502156eb-9de8-4824-84fb-7128c68e1683', 'Pentobarbital', ARRAY['Euthatal', 'Dolethal', 'Pentoject', 'pentobarbitone'], '3', 'B', false, NULL, NULL, 'Schedule 3 barbiturate (Class B); in practice a veterinary euthanasia agent.'),
    ('48085316-5d77-492d-a9de-fb4ee05812ec', 'Amobarbital sodium', ARRAY['amylobarbitone', 'Sodium Amytal'], '3', 'B', false, NULL, NULL, 'Schedule 3 barbiturate (Class B); rarely prescribed.'),
    ('c67186cc-d7c7-4a6f-b4cb-70c962fa10d0', 'Gabapentin', ARRAY['Neurontin'], '3', 'C', false, NULL, NULL, 'Class C (SI 2018/1356) and Schedule 3 (SI 2018/1383) since 1 April 2019; exempt from safe custody.'),
    ('83e9be84-2856-4c49-b921-5c0fa437c084', 'Pregabalin', ARRAY['Lyrica', 'Alzain', 'Axalid', 'Lecaent'], '3', 'C', false, NULL, NULL, 'Class C (SI 2018/1356) and Schedule 3 (SI 2018/1383) since 1 April 2019; exempt from safe custody.'),
    ('aa065df9-e244-4b3a-95e3-d4c2d4e8e5eb', 'Meprobamate', '{}', '3', 'C', false, NULL, NULL, 'Schedule 3; no longer marketed in the UK.'),
    ('c42af20d-6d2f-4857-b81f-7e90a77009ee', 'Diethylpropion', ARRAY['amfepramone', 'Tenuate Dospan'], '3', 'C', false, NULL, NULL, 'Schedule 3 appetite suppressant subject to safe custody; unlicensed in the UK.'),
    ('c08e4d89-54fa-48d3-aa10-f260c4249b87', 'Phentermine', ARRAY['Duromine', 'Adipex'], '3', 'C', false, NULL, NULL, 'Schedule 3 appetite suppressant; not licensed in the UK (imported or private supply).'),
    ('5f889dfd-b988-4ace-bed2-9923ff525997', 'Flunitrazepam', ARRAY['Rohypnol', 'roofies'], '3', 'C', false, NULL, NULL, 'Schedule 3 (unlike most benzodiazepines) and subject to safe custody; not licensed in the UK.'),
    -- Schedule 4 Part 1 (CD Benz)
    ('81a1c05f-becb-4cef-a7a1-0dc9508b65ca', 'Diazepam', ARRAY['Valium', 'Diazemuls', 'Stesolid', 'diazepam rectal tubes', 'Dialar'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1; counterfeit ''Valium'' often contains etizolam or other designer benzodiazepines (Schedule 1).'),
    ('46e8e3a5-760c-4cba-8e88-72adac14ee9b', 'Lorazepam', ARRAY['Ativan'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('e13240be-3fcf-48a3-99e8-9d3d0e4ead78', 'Clonazepam', ARRAY['Rivotril', 'Klonopin'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('912ceb7e-a03c-4cc1-8a7a-15a446ef2d0f', 'Nitrazepam', ARRAY['Mogadon'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('e135448e-581c-49fb-bf29-b2788f3fbb95', 'Chlordiazepoxide', ARRAY['Librium', 'chlordiazepoxide hydrochloride'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1; used in alcohol withdrawal.'),
    ('f40b7fc4-0b4c-4a84-81b3-4285348a644f', 'Oxazepam', '{}', '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('a0633b95-7d95-429c-8455-77ffb81d0799', 'Alprazolam', ARRAY['Xanax'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1; not prescribable on the NHS (private only); counterfeit ''Xanax'' is common.'),
    ('78aa101d-ebad-4277-9afc-f5b992ce0b26', 'Lormetazepam', '{}', '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('70a58074-e204-45e2-a8c9-385bcac3423e', 'Loprazolam', '{}', '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('76cf5e05-f063-41db-bcf7-e08088f317f9', 'Clobazam', ARRAY['Frisium', 'Perizam', 'Tapclob', 'Zacco'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('d2abb63e-2e94-4054-bc53-3bc093546f0b', 'Zopiclone', ARRAY['Zimovane'], '4-1', 'C', false, NULL, NULL, 'Class C and Schedule 4 Part 1 since 10 June 2014.'),
    ('fb7faa6f-f446-48dc-9901-89667ab01d91', 'Zolpidem tartrate', ARRAY['zolpidem', 'Stilnoct'], '4-1', 'C', false, NULL, NULL, 'Schedule 4 Part 1.'),
    ('536d1c42-60ca-49e5-9055-3d4e8d8646f3', 'Zaleplon', ARRAY['Sonata'], '4-1', 'C', false, NULL, NULL, 'Class C and Schedule 4 Part 1 since 10 June 2014; discontinued in the UK.'),
    ('223e8a6c-307b-45fb-8ff4-bf58ae6d5e5c', 'Nabiximols (Sativex)', ARRAY['Sativex', 'nabiximols', 'cannabis oromucosal spray'], '4-1', 'B', false, NULL, NULL, 'Class B (cannabis extract) but Schedule 4 Part 1 since April 2013; licensed for MS spasticity.'),
    ('d632b583-33eb-46bf-875e-74994b91a2ae', 'Remimazolam', ARRAY['Byfavo'], '4-1', 'C', false, NULL, NULL, 'Class C and Schedule 4 Part 1 since 20 March 2024 (SI 2024/190 and 2024/248); procedural sedation.'),
    ('294a03b0-def6-4119-b95f-34294d7136a6', 'Xylazine', ARRAY['tranq', 'Rompun', 'Sedaxylan', 'Chanazine'], '4-1', 'C', false, NULL, NULL, 'Veterinary sedative found as an adulterant; Class C and Schedule 4 Part 1 since 15 January 2025 (SI 2024/1361 and 2024/1369).'),
    -- Schedule 4 Part 2 (CD Anab)
    ('f53ac772-6866-4180-8004-39dac012646c', 'Nandrolone', ARRAY['Deca-Durabolin', 'deca', 'nandrolone decanoate'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid: possession of a medicinal product for self-administration is lawful; supply is not.'),
    ('d4a9e363-ca94-4bcc-8d7c-7db7f6462743', 'Testosterone', ARRAY['Testogel', 'Tostran', 'Testim', 'Testavan', 'Sustanon', 'Nebido', 'testosterone enanthate', 'testosterone cypionate', 'test'], '4-2', 'C', false, NULL, NULL, 'Schedule 4 Part 2: lawful to possess as a medicinal product for self-administration; supply without prescription is an offence.'),
    ('3ff092c1-68c5-4ecc-8888-3de6efcd1935', 'Stanozolol', ARRAY['Winstrol', 'winny'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2.'),
    ('cef8962d-d518-4dd6-bfde-0113b31c99ee', 'Oxandrolone', ARRAY['Anavar'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2.'),
    ('7b2c5d79-7a5f-4718-8e9a-8cb5213c0685', 'Oxymetholone', ARRAY['Anadrol', 'Anapolon'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2.'),
    ('3ce0cc2a-0d1d-4a49-a44d-399de5157e95', 'Trenbolone', ARRAY['tren', 'Finaplix'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2; veterinary origin.'),
    ('56b62cae-2949-43fa-9a1f-aff16039a19e', 'Boldenone', ARRAY['Equipoise'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2; veterinary origin.'),
    ('d2dd102d-a2aa-429e-824e-2d2c30084f41', 'Methandienone', ARRAY['methandrostenolone', 'Dianabol', 'dbol'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2.'),
    ('7ffd7b48-89c3-4bbc-9c1f-73c4026070e8', 'Mesterolone', ARRAY['Pro-Viron'], '4-2', 'C', false, NULL, NULL, 'Androgen; Schedule 4 Part 2.'),
    ('484c1b29-2f3d-48c1-98a8-230a6ee886b9', 'Drostanolone', ARRAY['Masteron'], '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2.'),
    ('e887ccc6-12fb-467b-830f-5dc516070e84', 'Methyltestosterone', '{}', '4-2', 'C', false, NULL, NULL, 'Anabolic steroid; Schedule 4 Part 2.'),
    ('7c91b1c5-f2b3-4c1b-9368-2d337ce4fa39', 'Clenbuterol', ARRAY['clen', 'Ventipulmin'], '4-2', 'C', false, NULL, NULL, 'Beta-2 agonist misused for performance; listed with the anabolic steroids in Schedule 4 Part 2; licensed in the UK for horses only.'),
    ('77285fc4-9651-4d0f-b755-ef68e1fb5299', 'Somatropin (growth hormone)', ARRAY['growth hormone', 'HGH', 'somatotropin', 'Genotropin', 'Humatrope', 'Norditropin', 'Omnitrope', 'Saizen', 'Zomacton', 'NutropinAq'], '4-2', 'C', false, NULL, NULL, 'Somatropin, somatotropin and somatrem: Class C, Schedule 4 Part 2.'),
    ('b26146a7-11df-4ee0-87b3-9ce2f1cc299a', 'Chorionic gonadotrophin (hCG)', ARRAY['hCG', 'human chorionic gonadotrophin', 'Pregnyl', 'Choragon'], '4-2', 'C', false, NULL, NULL, 'Class C, Schedule 4 Part 2 (misused alongside anabolic steroids).'),
    -- Schedule 5 (CD Inv): low-strength preparations; invoices kept 2 years
    ('aa438899-95d6-42ab-ab84-0e3c827a316a', 'Codeine phosphate', ARRAY['codeine', 'codeine linctus', 'codeine 30 mg tablets', 'codeine oral solution'], '5', 'B', true, 0.1, NULL, 'OME 0.1 per mg oral. Schedule 5: up to 100 mg per dose unit or 2.5% in liquids (tablets, linctus); the substance and injection are Schedule 2 (separate entry).'),
    ('91e86ca0-dacd-4bae-904a-b69a6afc04d9', 'Co-codamol (codeine with paracetamol)', ARRAY['co-codamol', 'co-codamol 8/500', 'co-codamol 15/500', 'co-codamol 30/500', 'Solpadol', 'Tylex', 'Zapain', 'Kapake', 'Codipar', 'Solpadeine'], '5', 'B', true, 0.1, NULL, 'OME 0.1 per mg of codeine (8, 15 or 30 mg per tablet), not per mg of tablet. Schedule 5.'),
    ('7403de84-8237-4838-b02e-32c95ee84983', 'Codeine with ibuprofen', ARRAY['Nurofen Plus', 'ibuprofen and codeine'], '5', 'B', true, 0.1, NULL, 'OME 0.1 per mg of codeine (12.8 mg per Nurofen Plus tablet). Schedule 5; pharmacy-only sale.'),
    ('33842c8b-bac0-420f-9d3f-681d608ba5cc', 'Dihydrocodeine tartrate', ARRAY['dihydrocodeine', 'DF118 Forte', 'DHC Continus', 'dihydrocodeine 30 mg tablets'], '5', 'B', true, 0.1, NULL, 'OME 0.1 per mg oral. Schedule 5 for tablets (incl. DHC Continus 60-120 mg, at most 100 mg base per unit) and oral solution; the injection is Schedule 2.'),
    ('5b222a86-1d41-461a-9d67-131f1ffe2f91', 'Co-dydramol (dihydrocodeine with paracetamol)', ARRAY['co-dydramol', 'co-dydramol 10/500', 'co-dydramol 20/500', 'co-dydramol 30/500', 'Remedeine'], '5', 'B', true, 0.1, NULL, 'OME 0.1 per mg of dihydrocodeine (10, 20 or 30 mg per tablet), not per mg of tablet. Schedule 5.'),
    ('f8b6c63f-339a-4153-b09f-07694362aa7c', 'Pholcodine', ARRAY['pholcodine linctus', 'Galenphol'], '5', 'B', true, NULL, NULL, 'Cough suppressant with no analgesic OME; all UK pholcodine products were withdrawn in March 2023 (MHRA).'),
    ('65036507-a44d-41fa-af25-9a69a9b21a34', 'Morphine sulfate oral solution 10 mg/5 mL (Oramorph)', ARRAY['Oramorph', 'Oramorph 10 mg/5 mL', 'morphine oral solution', 'Oramorph unit dose vials 10 mg/5 mL'], '5', 'A', true, 1, NULL, 'Oral OME 1 per mg of morphine. Schedule 5 because it contains no more than 0.2% morphine; stronger solutions are Schedule 2.'),
    ('8da9d8b2-978a-4b77-8b8e-d83e3283d7c5', 'Kaolin and morphine mixture', ARRAY['kaolin and morphine', 'kaolin morph'], '5', 'A', true, NULL, NULL, 'Schedule 5 antidiarrhoeal (under 0.2% morphine); dosed in mL, so no per-mg OME factor.'),
    ('d17eda0b-2e77-467f-bd5a-edbcaa177089', 'J. Collis Browne''s Mixture (morphine with peppermint oil)', ARRAY['J Collis Browne', 'Collis Browne''s', 'morphine and peppermint'], '5', 'A', true, NULL, NULL, 'Schedule 5 pharmacy medicine (low-strength morphine) for diarrhoea; known misuse; dosed in mL, so no per-mg OME factor.'),
    ('a786f547-e7ad-482f-bdd5-93892bf9fab6', 'Opiate squill linctus (Gee''s linctus)', ARRAY['Gee''s linctus', 'Gees linctus', 'squill opiate linctus'], '5', 'A', true, NULL, NULL, 'Schedule 5 cough linctus containing opium tincture; known misuse; dosed in mL, so no per-mg OME factor.'),
    ('3cb0dd50-1a7c-478d-b58f-ae6390987110', 'Co-phenotrope (diphenoxylate with atropine)', ARRAY['co-phenotrope', 'Lomotil', 'diphenoxylate'], '5', 'A', true, NULL, NULL, 'Diphenoxylate is Class A; this preparation with atropine is Schedule 5. Antidiarrhoeal: no analgesic OME.'),
    ('b919794c-a7b5-4ceb-af3e-3fa2a90902fc', 'Nitrous oxide', ARRAY['laughing gas', 'NOS', 'nangs', 'hippy crack', 'Entonox'], '5', 'C', false, NULL, NULL, 'Class C (SI 2023/1091) and Schedule 5 (SI 2023/1099) since 8 Nov 2023; medical, dental and catering uses remain lawful.');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cdconcerns_app') THEN
        GRANT SELECT ON drugs TO cdconcerns_app;
    END IF;
END
$$;
